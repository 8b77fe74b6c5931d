import PipelineConfig
import Testing

@Suite struct PipelinesYAMLValidatorTests {
    static let valid = """
        image: node:20
        definitions:
          caches:
            npm:
              key:
                files: [package-lock.json]
              path: ~/.npm
        options:
          max-time: 30
          size: 2x
        pipelines:
          default:
            - step:
                name: Build
                caches: [node, npm]
                script:
                  - npm ci
          branches:
            main:
              - step:
                  name: Build
                  script: [npm ci]
              - parallel:
                  - step:
                      name: Lint
                      script: [npm run lint]
                  - step:
                      name: Test
                      size: 4x
                      script: [npm test]
              - step:
                  name: Deploy
                  deployment: production
                  trigger: manual
                  max-time: 15
                  script:
                    - pipe: atlassian/ssh-run:0.8.1
                      variables:
                        SSH_USER: $DEPLOY_USER_1
                        SERVER: $DEPLOY_HOST_1
                        COMMAND: echo ok
          custom:
            redeploy:
              - variables:
                  - name: REF
              - stage:
                  name: Ship
                  deployment: staging
                  steps:
                    - step:
                        name: Upload
                        script: [echo upload]
                    - step:
                        name: Activate
                        script: [echo activate]
        """

    @Test func validate_validDocument_ok() {
        let result = PipelinesYAMLValidator.validate(Self.valid)
        #expect(result.ok, "\(result.messages)")
        #expect(result.file == "bitbucket-pipelines.yml")
        #expect(result.messages.isEmpty)
    }

    struct BrokenCase: Sendable, CustomTestStringConvertible {
        let name: String
        let yaml: String
        let expected: String
        var testDescription: String { name }
    }

    static let broken: [BrokenCase] = [
        BrokenCase(
            name: "duplicate deployment",
            yaml: """
                pipelines:
                  branches:
                    main:
                      - step: {name: A, deployment: production, script: [a]}
                      - step: {name: B, deployment: production, script: [b]}
                """,
            expected: "deployment environment 'production' occurs 2 times"),
        BrokenCase(
            name: "duplicate deployment in stage and step",
            yaml: """
                pipelines:
                  default:
                    - stage: {deployment: test, steps: [{step: {script: [a]}}]}
                    - step: {deployment: Test, script: [b]}
                """,
            expected: "deployment environment 'test' occurs 2 times"),
        BrokenCase(
            name: "empty script",
            yaml: "pipelines:\n  default:\n    - step:\n        name: Build\n        script: []\n",
            expected: "script' must be a non-empty list"),
        BrokenCase(
            name: "empty command",
            yaml: "pipelines:\n  default:\n    - step:\n        script:\n          - ''\n",
            expected: "is an empty command"),
        BrokenCase(
            name: "missing script",
            yaml: "pipelines:\n  default:\n    - step:\n        name: Build\n",
            expected: "has no 'script'"),
        BrokenCase(
            name: "manual first step",
            yaml:
                "pipelines:\n  default:\n    - step:\n        trigger: manual\n        script: [a]\n    - step:\n        script: [b]\n",
            expected: "first step and cannot use 'trigger: manual'"),
        BrokenCase(
            name: "manual first step inside parallel",
            yaml:
                "pipelines:\n  default:\n    - parallel:\n        - step: {script: [a]}\n        - step: {trigger: manual, script: [b]}\n",
            expected: "first step and cannot use 'trigger: manual'"),
        BrokenCase(
            name: "unknown top-level key",
            yaml: "imag: node:20\npipelines:\n  default:\n    - step:\n        script: [a]\n",
            expected: "Unknown top-level key 'imag'"),
        BrokenCase(
            name: "tab indentation",
            yaml: "pipelines:\n\tdefault:\n\t\t- step:\n\t\t\tscript: [a]\n",
            expected: "Invalid YAML"),
        BrokenCase(
            name: "unclosed flow sequence",
            yaml: "pipelines:\n  default:\n    - step:\n        script: [a\n",
            expected: "Invalid YAML"),
        BrokenCase(
            name: "duplicate key",
            yaml: "pipelines:\n  default:\n    - step:\n        script: [a]\n        script: [b]\n",
            expected: "Invalid YAML"),
        BrokenCase(name: "missing pipelines", yaml: "image: node:20\n", expected: "Missing 'pipelines'"),
        BrokenCase(name: "not a mapping", yaml: "- step: {script: [a]}\n", expected: "must be a mapping"),
        BrokenCase(
            name: "pipeline is a map",
            yaml: "pipelines:\n  custom:\n    deploy:\n      step:\n        script: [a]\n",
            expected: "must be a non-empty list of steps"),
        BrokenCase(
            name: "unknown item",
            yaml: "pipelines:\n  default:\n    - stepp:\n        script: [a]\n",
            expected: "unknown item 'stepp'"),
        BrokenCase(
            name: "bad size",
            yaml: "pipelines:\n  default:\n    - step:\n        size: 3x\n        script: [a]\n",
            expected: "size' must be one of"),
        BrokenCase(
            name: "max-time zero",
            yaml: "pipelines:\n  default:\n    - step:\n        max-time: 0\n        script: [a]\n",
            expected: "max-time' must be a positive integer"),
        BrokenCase(
            name: "max-time string",
            yaml: "options:\n  max-time: ten\npipelines:\n  default:\n    - step:\n        script: [a]\n",
            expected: "max-time' must be a positive integer"),
        BrokenCase(
            name: "bad trigger",
            yaml: "pipelines:\n  default:\n    - step: {script: [a]}\n    - step: {trigger: later, script: [a]}\n",
            expected: "trigger' must be 'automatic' or 'manual'"),
        BrokenCase(
            name: "undefined cache",
            yaml: "pipelines:\n  default:\n    - step:\n        caches: [mystery]\n        script: [a]\n",
            expected: "cache 'mystery'"),
        BrokenCase(
            name: "pipe without name",
            yaml: "pipelines:\n  default:\n    - step:\n        script:\n          - variables: {A: b}\n",
            expected: "must be a command string or a 'pipe' item"),
        BrokenCase(
            name: "inline private key",
            yaml:
                "pipelines:\n  default:\n    - step:\n        script:\n          - echo '-----BEGIN OPENSSH PRIVATE KEY-----' > id\n",
            expected: "private key is written inline"),
        BrokenCase(
            name: "unknown pipelines section",
            yaml: "pipelines:\n  nightly:\n    - step: {script: [a]}\n",
            expected: "Unknown key 'pipelines.nightly'"),
    ]

    @Test(arguments: broken)
    func validate_brokenDocument_rejected(_ row: BrokenCase) {
        let result = PipelinesYAMLValidator.validate(row.yaml)
        #expect(!result.ok)
        #expect(result.messages.contains { $0.contains(row.expected) }, "\(result.messages)")
    }

    @Test func validate_tooManySteps_rejected() {
        let steps = (0..<101).map { "    - step: {name: s\($0), script: [echo \($0)]}" }.joined(separator: "\n")
        let result = PipelinesYAMLValidator.validate("pipelines:\n  default:\n" + steps + "\n")
        #expect(result.messages.contains { $0.contains("101 steps") })
    }

    @Test func validate_anchorsAndMergeKeys_accepted() {
        let yaml = """
            definitions:
              steps:
                - step: &build
                    name: Build
                    script: [make]
            pipelines:
              default:
                - step: *build
              branches:
                main:
                  - step:
                      <<: *build
                      name: Build main
            """
        let result = PipelinesYAMLValidator.validate(yaml)
        #expect(result.ok, "\(result.messages)")
    }

    @Test func validate_pullRequestDestinations_checked() {
        let yaml = """
            pipelines:
              pull-requests:
                '**':
                  destinations:
                    main:
                      - step: {name: A, script: []}
            """
        #expect(PipelinesYAMLValidator.validate(yaml).messages.contains { $0.contains("destinations.main") })
    }
}
