/// Stack detection and generated configuration (see Detection/, Generation/).
enum PipelineConfigModule {}
