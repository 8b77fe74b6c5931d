import App

/// `pipewright` (README "Commands"): the command line is `PipewrightCommand` in the App module.
@main
enum Entrypoint {
    static func main() async {
        await PipewrightCommand.runMain()
    }
}
