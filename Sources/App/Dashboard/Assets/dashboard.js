// Pipewright dashboard
