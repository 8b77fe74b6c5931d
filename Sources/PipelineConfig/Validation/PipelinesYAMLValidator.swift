import Yams

/// Checks `bitbucket-pipelines.yml` text against the structure Bitbucket requires, before committing it.
///
/// Rules (https://support.atlassian.com/bitbucket-cloud/docs/step-options/ and Bitbucket's behaviour on
/// runs, e.g. a deployment environment used twice fails the run):
/// - the text is valid YAML (tabs in indentation, duplicate keys and undefined aliases are errors) and
///   its root is a mapping whose keys are among `image`, `clone`, `options`, `definitions`, `export`,
///   `labels`, `pipelines`;
/// - `pipelines` exists, its keys are `default`, `branches`, `tags`, `pull-requests`, `custom`, and each
///   pipeline is a list of `step`, `parallel` or `stage` items (custom pipelines may start with
///   `variables`; a pipeline may be `{import: …}`);
/// - every step has a non-empty `script` of non-empty strings or `pipe:` items (same for `after-script`);
/// - a deployment environment appears at most once per pipeline; at most 100 steps per pipeline;
/// - `trigger` is `automatic` or `manual`, and `manual` is not on the first step;
/// - `size` is one of `1x 2x 4x 8x 16x 32x`; `max-time` is a positive integer (minutes);
/// - step caches are built-in or defined under `definitions.caches`;
/// - no scalar contains a PEM private key.
public enum PipelinesYAMLValidator {
    /// Default file name reported in results.
    public static let fileName = "bitbucket-pipelines.yml"
    /// Allowed top-level keys.
    public static let topLevelKeys: Set<String> = [
        "image", "clone", "options", "definitions", "export", "labels", "pipelines",
    ]
    /// Allowed keys under `pipelines`.
    public static let pipelineSections: Set<String> = ["default", "branches", "tags", "pull-requests", "custom"]
    /// Allowed `size` values.
    public static let sizes: Set<String> = ["1x", "2x", "4x", "8x", "16x", "32x"]
    /// Maximum steps in one pipeline.
    public static let maxSteps = 100

    /// Validates `yaml`; never throws — every problem becomes a message.
    ///
    /// - Parameters:
    ///   - yaml: The document text.
    ///   - file: Name reported in the result.
    /// - Returns: `ok == true` when the document passes every rule above.
    public static func validate(_ yaml: String, file: String = fileName) -> ValidationResult {
        var messages: [String] = []
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            return ValidationResult(file: file, messages: ["Invalid YAML: " + oneLine(error)])
        }
        guard let root, case .mapping(let top) = root else {
            return ValidationResult(file: file, messages: ["The document must be a mapping with a 'pipelines' key."])
        }
        for key in keys(of: top) where !topLevelKeys.contains(key) {
            messages.append("Unknown top-level key '\(key)'.")
        }
        var definedCaches = Set<String>()
        if let definitions = top["definitions"] {
            if case .mapping(let definitionMap) = definitions {
                if let caches = definitionMap["caches"] {
                    if case .mapping(let cacheMap) = caches {
                        for (name, value) in cacheMap {
                            let cacheName = name.string ?? ""
                            definedCaches.insert(cacheName)
                            checkCacheDefinition(cacheName, value, &messages)
                        }
                    } else {
                        messages.append("'definitions.caches' must be a mapping.")
                    }
                }
            } else {
                messages.append("'definitions' must be a mapping.")
            }
        }
        if let options = top["options"] {
            if case .mapping(let optionMap) = options {
                checkSizeAndTime(optionMap, where: "options", &messages)
            } else {
                messages.append("'options' must be a mapping.")
            }
        }
        let context = Context(definedCaches: definedCaches)
        guard let pipelines = top["pipelines"] else {
            messages.append("Missing 'pipelines'.")
            return ValidationResult(file: file, messages: messages)
        }
        guard case .mapping(let sections) = pipelines, !sections.isEmpty else {
            messages.append("'pipelines' must be a non-empty mapping.")
            return ValidationResult(file: file, messages: messages)
        }
        for (keyNode, value) in sections {
            let section = keyNode.string ?? ""
            switch section {
            case "default":
                checkPipeline(value, name: "pipelines.default", custom: false, context, &messages)
            case "branches", "tags", "custom":
                guard case .mapping(let globs) = value, !globs.isEmpty else {
                    messages.append("'pipelines.\(section)' must be a non-empty mapping.")
                    continue
                }
                for (glob, pipeline) in globs {
                    checkPipeline(
                        pipeline, name: "pipelines.\(section).\(glob.string ?? "?")", custom: section == "custom",
                        context, &messages)
                }
            case "pull-requests":
                guard case .mapping(let globs) = value, !globs.isEmpty else {
                    messages.append("'pipelines.pull-requests' must be a non-empty mapping.")
                    continue
                }
                for (glob, pipeline) in globs {
                    let name = "pipelines.pull-requests.\(glob.string ?? "?")"
                    if case .mapping(let inner) = pipeline, let destinations = inner["destinations"] {
                        guard case .mapping(let targets) = destinations else {
                            messages.append("'\(name).destinations' must be a mapping.")
                            continue
                        }
                        for (target, nested) in targets {
                            checkPipeline(
                                nested, name: "\(name).destinations.\(target.string ?? "?")", custom: false, context,
                                &messages)
                        }
                    } else {
                        checkPipeline(pipeline, name: name, custom: false, context, &messages)
                    }
                }
            default:
                messages.append("Unknown key 'pipelines.\(section)'.")
            }
        }
        checkNoPrivateKeys(root, &messages)
        return ValidationResult(file: file, messages: messages)
    }

    // MARK: - Pipelines

    struct Context {
        var definedCaches: Set<String>
    }

    /// State collected while walking one pipeline.
    struct PipelineState {
        var steps = 0
        var environments: [String: Int] = [:]
        var isFirst = true
    }

    static func checkPipeline(_ node: Node, name: String, custom: Bool, _ context: Context, _ messages: inout [String])
    {
        if case .mapping(let mapping) = node, mapping.count == 1, let source = mapping["import"] {
            if source.string?.isEmpty ?? true { messages.append("'\(name).import' must be a non-empty string.") }
            return
        }
        guard case .sequence(let items) = node, !items.isEmpty else {
            messages.append("'\(name)' must be a non-empty list of steps.")
            return
        }
        var state = PipelineState()
        for (index, item) in items.enumerated() {
            let location = "\(name)[\(index)]"
            guard case .mapping(let entry) = item, entry.count == 1, let key = entry.keys.first?.string,
                let value = entry.values.first
            else {
                messages.append("'\(location)' must be a single 'step', 'parallel' or 'stage' item.")
                continue
            }
            switch key {
            case "step":
                checkStep(value, location: location + ".step", context, &state, &messages)
            case "parallel":
                checkParallel(value, location: location + ".parallel", context, &state, &messages)
            case "stage":
                checkStage(value, location: location + ".stage", context, &state, &messages)
            case "variables" where custom && index == 0:
                if case .sequence = value {} else { messages.append("'\(location).variables' must be a list.") }
            default:
                messages.append("'\(location)' has unknown item '\(key)'; expected step, parallel or stage.")
            }
        }
        if state.steps > maxSteps {
            messages.append("'\(name)' has \(state.steps) steps; Bitbucket allows at most \(maxSteps).")
        }
        for (environment, count) in state.environments.sorted(by: { $0.key < $1.key }) where count > 1 {
            messages.append(
                "The deployment environment '\(environment)' occurs \(count) times in '\(name)'; it may appear only once per pipeline."
            )
        }
    }

    static func checkStep(
        _ node: Node, location: String, _ context: Context, _ state: inout PipelineState, _ messages: inout [String],
        insideDeployingStage: Bool = false, firstOfStage: Bool = false
    ) {
        state.steps += 1
        defer { state.isFirst = false }
        guard case .mapping(let rawStep) = node else {
            messages.append("'\(location)' must be a mapping.")
            return
        }
        let step = merged(rawStep)
        checkScript(step["script"], field: "script", location: location, required: true, &messages)
        if let after = step["after-script"] {
            checkScript(after, field: "after-script", location: location, required: false, &messages)
        }
        if let deployment = step["deployment"] {
            if let environment = deployment.string, !environment.isEmpty {
                if insideDeployingStage {
                    messages.append("'\(location)' sets 'deployment' inside a stage that already has one.")
                }
                state.environments[environment.lowercased(), default: 0] += 1
            } else {
                messages.append("'\(location).deployment' must be a non-empty string.")
            }
        }
        checkTrigger(step["trigger"], location: location, isFirst: state.isFirst, &messages)
        checkSizeAndTime(step, where: location, &messages)
        if let caches = step["caches"] {
            if case .sequence(let names) = caches {
                for cache in names {
                    guard let name = cache.string, !name.isEmpty else {
                        messages.append("'\(location).caches' entries must be names.")
                        continue
                    }
                    if !CacheSpec.builtInNames.contains(name), !context.definedCaches.contains(name) {
                        messages.append("'\(location)' uses cache '\(name)', which is neither built in nor defined.")
                    }
                }
            } else {
                messages.append("'\(location).caches' must be a list.")
            }
        }
        if let artifacts = step["artifacts"] {
            switch artifacts {
            case .sequence(let globs) where globs.allSatisfy({ !($0.string ?? "").isEmpty }): break
            case .mapping: break
            default: messages.append("'\(location).artifacts' must be a list of globs or a mapping.")
            }
        }
    }

    static func checkParallel(
        _ node: Node, location: String, _ context: Context, _ state: inout PipelineState, _ messages: inout [String]
    ) {
        var items: [Node]
        switch node {
        case .sequence(let list): items = Array(list)
        case .mapping(let mapping):
            guard case .sequence(let list)? = mapping["steps"] else {
                messages.append("'\(location).steps' must be a list.")
                return
            }
            items = Array(list)
        default:
            messages.append("'\(location)' must be a list of steps.")
            return
        }
        guard !items.isEmpty else {
            messages.append("'\(location)' must contain steps.")
            return
        }
        let wasFirst = state.isFirst
        for (index, item) in items.enumerated() {
            state.isFirst = wasFirst
            guard case .mapping(let entry) = item, let step = entry["step"] else {
                messages.append("'\(location)[\(index)]' must be a 'step' item.")
                continue
            }
            checkStep(step, location: "\(location)[\(index)].step", context, &state, &messages)
        }
        state.isFirst = false
    }

    static func checkStage(
        _ node: Node, location: String, _ context: Context, _ state: inout PipelineState, _ messages: inout [String]
    ) {
        guard case .mapping(let stage) = node else {
            messages.append("'\(location)' must be a mapping.")
            return
        }
        var deploying = false
        if let deployment = stage["deployment"] {
            if let environment = deployment.string, !environment.isEmpty {
                state.environments[environment.lowercased(), default: 0] += 1
                deploying = true
            } else {
                messages.append("'\(location).deployment' must be a non-empty string.")
            }
        }
        checkTrigger(stage["trigger"], location: location, isFirst: state.isFirst, &messages)
        guard case .sequence(let steps)? = stage["steps"], !steps.isEmpty else {
            messages.append("'\(location).steps' must be a non-empty list.")
            state.isFirst = false
            return
        }
        for (index, item) in steps.enumerated() {
            guard case .mapping(let entry) = item, let step = entry["step"] else {
                messages.append("'\(location).steps[\(index)]' must be a 'step' item.")
                continue
            }
            checkStep(
                step, location: "\(location).steps[\(index)].step", context, &state, &messages,
                insideDeployingStage: deploying)
        }
    }

    // MARK: - Fields

    static func checkScript(_ node: Node?, field: String, location: String, required: Bool, _ messages: inout [String])
    {
        guard let node else {
            if required { messages.append("'\(location)' has no '\(field)'.") }
            return
        }
        guard case .sequence(let commands) = node, !commands.isEmpty else {
            messages.append("'\(location).\(field)' must be a non-empty list.")
            return
        }
        for (index, command) in commands.enumerated() {
            switch command {
            case .scalar(let scalar):
                if scalar.string.trimmingWhitespace.isEmpty {
                    messages.append("'\(location).\(field)[\(index)]' is an empty command.")
                }
            case .mapping(let item):
                guard let pipe = item["pipe"]?.string, !pipe.trimmingWhitespace.isEmpty else {
                    messages.append("'\(location).\(field)[\(index)]' must be a command string or a 'pipe' item.")
                    continue
                }
                if let variables = item["variables"], case .mapping = variables {
                } else if item["variables"] != nil {
                    messages.append("'\(location).\(field)[\(index)].variables' must be a mapping.")
                }
            default:
                messages.append("'\(location).\(field)[\(index)]' must be a command string or a 'pipe' item.")
            }
        }
    }

    static func checkTrigger(_ node: Node?, location: String, isFirst: Bool, _ messages: inout [String]) {
        guard let node else { return }
        switch node.string {
        case "automatic": break
        case "manual":
            if isFirst { messages.append("'\(location)' is the first step and cannot use 'trigger: manual'.") }
        default: messages.append("'\(location).trigger' must be 'automatic' or 'manual'.")
        }
    }

    static func checkSizeAndTime(_ mapping: Node.Mapping, where location: String, _ messages: inout [String]) {
        if let size = mapping["size"], !sizes.contains(size.string ?? "") {
            messages.append("'\(location).size' must be one of 1x, 2x, 4x, 8x, 16x, 32x.")
        }
        if let maxTime = mapping["max-time"] {
            guard let minutes = maxTime.int, minutes > 0 else {
                messages.append("'\(location).max-time' must be a positive integer (minutes).")
                return
            }
        }
    }

    static func checkCacheDefinition(_ name: String, _ node: Node, _ messages: inout [String]) {
        switch node {
        case .scalar(let path) where !path.string.isEmpty: return
        case .mapping(let cache):
            guard let path = cache["path"]?.string, !path.isEmpty else {
                messages.append("'definitions.caches.\(name).path' must be a non-empty string.")
                return
            }
            if let key = cache["key"] {
                guard case .mapping(let keyMap) = key, case .sequence(let files)? = keyMap["files"], !files.isEmpty,
                    files.allSatisfy({ !($0.string ?? "").isEmpty })
                else {
                    messages.append("'definitions.caches.\(name).key.files' must be a non-empty list of paths.")
                    return
                }
            }
        default:
            messages.append("'definitions.caches.\(name)' must be a path or a mapping with 'path'.")
        }
    }

    static func checkNoPrivateKeys(_ node: Node, _ messages: inout [String]) {
        switch node {
        case .scalar(let scalar):
            if scalar.string.contains("PRIVATE KEY-----") {
                messages.append("A private key is written inline; use the repository SSH key or a secured variable.")
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                checkNoPrivateKeys(key, &messages)
                checkNoPrivateKeys(value, &messages)
            }
        case .sequence(let sequence):
            for item in sequence { checkNoPrivateKeys(item, &messages) }
        case .alias:
            break
        }
    }

    // MARK: - Helpers

    /// `mapping` with YAML merge keys (`<<: *anchor`) folded in; explicit keys win.
    static func merged(_ mapping: Node.Mapping) -> Node.Mapping {
        guard let base = mapping["<<"], case .mapping(let inherited) = base else { return mapping }
        var pairs: [(Node, Node)] = mapping.filter { $0.key.string != "<<" }.map { ($0.key, $0.value) }
        for (key, value) in inherited where mapping[key] == nil {
            pairs.append((key, value))
        }
        return Node.Mapping(pairs)
    }

    static func keys(of mapping: Node.Mapping) -> [String] { mapping.keys.map { $0.string ?? "?" } }

    static func oneLine(_ error: any Error) -> String {
        InputRules.singleLine(String(describing: error)).trimmingWhitespace.prefix(300).description
    }
}
