import Vapor

/// Refusals of the detect/config/create-pr flow.
enum PipelineSetupError: APIErrorConvertible, Equatable {
    case noStackDetected
    case branchNotFound(String)
    case nginxNeedsAppPort
    case invalidGeneratedFile(file: String, messages: [String])

    var status: HTTPResponseStatus {
        switch self {
        case .noStackDetected, .nginxNeedsAppPort, .invalidGeneratedFile: .unprocessableEntity
        case .branchNotFound: .notFound
        }
    }

    var code: String {
        switch self {
        case .noStackDetected: "stack_not_detected"
        case .branchNotFound: "branch_not_found"
        case .nginxNeedsAppPort: "app_port_required"
        case .invalidGeneratedFile: "invalid_generated_config"
        }
    }

    var message: String {
        switch self {
        case .noStackDetected: "No known stack was found in the repository; set stack_override on the pipeline."
        case .branchNotFound(let name): "Branch '\(name)' does not exist in the repository."
        case .nginxNeedsAppPort: "An nginx config needs deploy.app_port."
        case .invalidGeneratedFile(let file, _): "The generated \(file) did not pass validation; nothing was committed."
        }
    }

    var details: [String: String] {
        switch self {
        case .branchNotFound(let name): ["branch": name]
        case .invalidGeneratedFile(let file, let messages):
            ["file": file, "messages": messages.joined(separator: "; ")]
        default: [:]
        }
    }
}
