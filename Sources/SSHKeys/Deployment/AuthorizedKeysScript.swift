/// The fixed POSIX `sh` scripts that run on the server (sent on standard input to `sh -s`) to add,
/// remove or look for one key in `~/.ssh/authorized_keys`.
///
/// The file format is `sshd(8)` "AUTHORIZED_KEYS FILE FORMAT": one key per line,
/// `[options] <algorithm> <base64 blob> [comment]`, `#` comments and blank lines ignored. A key's
/// identity is its base64 blob; a non-comment line "contains" the key when one of its
/// whitespace-separated fields equals the blob (this skips an options prefix such as
/// `from="10.0.0.0/8",no-pty` and ignores the comment).
///
/// Only two values are interpolated, and both are safe by alphabet:
/// - the blob, validated as base64 (`A-Z a-z 0-9 + / =`), inside single quotes;
/// - the key line to add, as a `printf` format made only of `\ooo` octal escapes (`\163\163\150…`),
///   so quotes, `$(…)`, `%` and backslashes in a comment reach the file verbatim.
///
/// The scripts print `PIPEWRIGHT_USER=<id -un>` and one of `PIPEWRIGHT_STATUS=added|already_present|removed|absent`
/// or `PIPEWRIGHT_ERROR=<token>` (exit status 3) when `~/.ssh` or the file cannot be written.
///
/// Edits first sweep `~/.ssh/.authorized_keys.pipewright.<pid>` files left by an earlier edit whose
/// connection was killed (its `sh` is gone: `kill -0 <pid>` fails), printing `PIPEWRIGHT_SWEPT=1` for each;
/// the remove script also deletes its own temporary file on `HUP`, `INT`, `PIPE` and `TERM`.
/// They need only `sh`, `awk`, `tail`, `chmod`, `mkdir`, `mv`, `cat` and `id`, all POSIX.
enum AuthorizedKeysScript {
    /// Exit status of a script that failed for lack of permission (with `PIPEWRIGHT_ERROR=`).
    static let permissionFailureStatus: Int32 = 3

    /// Error tokens the scripts print, and the phrase shown to users for each.
    static let errorPhrases: [String: String] = [
        "no_home": "the home directory does not exist",
        "ssh_dir_not_directory": "~/.ssh exists but is not a directory",
        "mkdir_ssh_dir": "cannot create ~/.ssh",
        "create_authorized_keys": "cannot create ~/.ssh/authorized_keys",
        "chmod_authorized_keys": "cannot set the mode of ~/.ssh/authorized_keys",
        "authorized_keys_not_file": "~/.ssh/authorized_keys is not a regular file",
        "authorized_keys_unreadable": "cannot read ~/.ssh/authorized_keys",
        "authorized_keys_unwritable": "cannot write ~/.ssh/authorized_keys",
        "ssh_dir_unwritable": "cannot write in ~/.ssh",
        "replace_authorized_keys": "cannot replace ~/.ssh/authorized_keys",
    ]

    /// Adds `keyLine` unless a non-comment line already holds `blobBase64`.
    ///
    /// Creates `~/.ssh` (0700) and `authorized_keys` (0600) when absent, appends a newline first
    /// when the file does not end with one, and leaves every other line untouched.
    ///
    /// - Parameters:
    ///   - keyLine: A validated single-line public key (no control characters).
    ///   - blobBase64: Its blob, validated base64.
    static func add(keyLine: String, blobBase64: String) -> String {
        prelude(blobBase64: blobBase64) + """
            if [ ! -d "$pw_dir" ]; then
              [ -e "$pw_dir" ] && pw_fail ssh_dir_not_directory
              mkdir -m 700 "$pw_dir" 2>/dev/null || pw_fail mkdir_ssh_dir
            fi
            pw_sweep
            if [ ! -e "$pw_ak" ]; then
              ( : > "$pw_ak" ) 2>/dev/null || pw_fail create_authorized_keys
              chmod 600 "$pw_ak" 2>/dev/null || pw_fail chmod_authorized_keys
            fi
            [ -f "$pw_ak" ] || pw_fail authorized_keys_not_file
            [ -r "$pw_ak" ] || pw_fail authorized_keys_unreadable
            [ -w "$pw_ak" ] || pw_fail authorized_keys_unwritable
            pw_has_key "$pw_ak"
            pw_rc=$?
            if [ "$pw_rc" -eq 0 ]; then echo 'PIPEWRIGHT_STATUS=already_present'; exit 0; fi
            [ "$pw_rc" -eq 1 ] || { echo 'awk failed while reading authorized_keys' >&2; exit 4; }
            if [ -s "$pw_ak" ] && [ -n "$(tail -c 1 "$pw_ak")" ]; then
              printf '\\n' >> "$pw_ak" 2>/dev/null || pw_fail authorized_keys_unwritable
            fi
            printf '\(octalEscaped(keyLine))\\n' >> "$pw_ak" 2>/dev/null || pw_fail authorized_keys_unwritable
            echo 'PIPEWRIGHT_STATUS=added'

            """
    }

    /// Removes every non-comment line holding `blobBase64`, replacing the file atomically
    /// (temporary file in `~/.ssh`, mode 0600, then `mv`); comments, blank lines and other keys
    /// stay byte-identical and in order.
    ///
    /// - Parameter blobBase64: The key's blob, validated base64.
    static func remove(blobBase64: String) -> String {
        prelude(blobBase64: blobBase64) + """
            if [ ! -e "$pw_ak" ]; then echo 'PIPEWRIGHT_STATUS=absent'; exit 0; fi
            [ -f "$pw_ak" ] || pw_fail authorized_keys_not_file
            [ -r "$pw_ak" ] || pw_fail authorized_keys_unreadable
            pw_has_key "$pw_ak"
            pw_rc=$?
            if [ "$pw_rc" -eq 1 ]; then pw_sweep; echo 'PIPEWRIGHT_STATUS=absent'; exit 0; fi
            [ "$pw_rc" -eq 0 ] || { echo 'awk failed while reading authorized_keys' >&2; exit 4; }
            [ -w "$pw_dir" ] || pw_fail ssh_dir_unwritable
            pw_sweep
            pw_tmp="$pw_dir/.authorized_keys.pipewright.$$"
            trap 'rm -f "$pw_tmp"' EXIT
            trap 'rm -f "$pw_tmp"; exit 129' HUP
            trap 'rm -f "$pw_tmp"; exit 130' INT
            trap 'rm -f "$pw_tmp"; exit 141' PIPE
            trap 'rm -f "$pw_tmp"; exit 143' TERM
            ( set -C; : > "$pw_tmp" ) 2>/dev/null || pw_fail ssh_dir_unwritable
            chmod 600 "$pw_tmp" 2>/dev/null || pw_fail ssh_dir_unwritable
            LC_ALL=C awk -v b="$pw_blob" '
              /^[ \\t]*#/ { print; next }
              { for (i = 1; i <= NF; i++) { f = $i; sub(/\\r$/, "", f); if (f == b) next } print }
            ' "$pw_ak" > "$pw_tmp" || { echo 'awk failed while filtering authorized_keys' >&2; exit 4; }
            if [ -L "$pw_ak" ]; then
              cat "$pw_tmp" > "$pw_ak" 2>/dev/null || pw_fail replace_authorized_keys
            else
              mv -f "$pw_tmp" "$pw_ak" 2>/dev/null || pw_fail replace_authorized_keys
            fi
            echo 'PIPEWRIGHT_STATUS=removed'

            """
    }

    /// Prints the user and, when `blobBase64` is given, `PIPEWRIGHT_PRESENT=yes|no|unknown` for
    /// whether `~/.ssh/authorized_keys` holds the key.
    ///
    /// - Parameter blobBase64: The key's blob, validated base64, or `nil`.
    static func check(blobBase64: String?) -> String {
        guard let blobBase64 else { return prelude(blobBase64: "") }
        return prelude(blobBase64: blobBase64) + """
            if [ -r "$pw_ak" ]; then
              pw_has_key "$pw_ak"
              case $? in 0) echo 'PIPEWRIGHT_PRESENT=yes' ;; 1) echo 'PIPEWRIGHT_PRESENT=no' ;; *) echo 'PIPEWRIGHT_PRESENT=unknown' ;; esac
            elif [ -e "$pw_ak" ]; then
              echo 'PIPEWRIGHT_PRESENT=unknown'
            else
              echo 'PIPEWRIGHT_PRESENT=no'
            fi

            """
    }

    /// Prints `PIPEWRIGHT_UID=<id -u>` and, for the home directory, `~/.ssh` and `authorized_keys`
    /// (when they exist), `PIPEWRIGHT_PERM_HOME|SSH_DIR|AUTHORIZED_KEYS=<ls -ldn mode> <uid> <owner name>`,
    /// and `PIPEWRIGHT_HOME=<path>`; nothing is changed unless `fix`.
    ///
    /// With `fix`, each of those paths owned by the account itself loses its group and other write bits
    /// (`chmod go-w`), the only change sshd's `StrictModes` asks for that the account can make: nothing is
    /// chowned, no permission is added. The modes are printed after the repair, with
    /// `PIPEWRIGHT_FIXED_<NAME>=1` for each path changed.
    static func permissions(fix: Bool) -> String {
        prelude(blobBase64: "") + """
            pw_uid=$(id -u)
            printf 'PIPEWRIGHT_UID=%s\\n' "$pw_uid"
            printf 'PIPEWRIGHT_HOME=%s\\n' "$HOME"
            pw_perm() {
              [ -e "$2" ] || return 0
              pw_line=$(ls -ldn -- "$2" 2>/dev/null | awk '{ print $1 " " $3 }')
              if [ \(fix ? "1" : "0") = 1 ] && [ "${pw_line#* }" = "$pw_uid" ] && [ ! -L "$2" ]; then
                case $pw_line in ?????w*|????????w*)
                  chmod go-w -- "$2" 2>/dev/null && printf 'PIPEWRIGHT_FIXED_%s=1\\n' "$1"
                  pw_line=$(ls -ldn -- "$2" 2>/dev/null | awk '{ print $1 " " $3 }') ;;
                esac
              fi
              pw_name=$(ls -ld -- "$2" 2>/dev/null | awk '{ print $3 }')
              printf 'PIPEWRIGHT_PERM_%s=%s %s\\n' "$1" "$pw_line" "$pw_name"
            }
            pw_perm HOME "$HOME"
            pw_perm SSH_DIR "$pw_dir"
            pw_perm AUTHORIZED_KEYS "$pw_ak"

            """
    }

    /// Shared start: strict variables, private umask, the failure helper, paths and the matcher.
    private static func prelude(blobBase64: String) -> String {
        """
        set -u
        umask 077
        pw_fail() { printf 'PIPEWRIGHT_ERROR=%s\\n' "$1"; exit \(permissionFailureStatus); }
        printf 'PIPEWRIGHT_USER=%s\\n' "$(id -un 2>/dev/null)"
        [ -n "${HOME:-}" ] && [ -d "$HOME" ] || pw_fail no_home
        pw_dir="$HOME/.ssh"
        pw_ak="$pw_dir/authorized_keys"
        pw_blob='\(blobBase64)'
        pw_sweep() {
          for pw_old in "$pw_dir"/.authorized_keys.pipewright.*; do
            [ -f "$pw_old" ] && [ ! -L "$pw_old" ] || continue
            pw_old_pid=${pw_old##*.}
            case $pw_old_pid in ''|*[!0-9]*) continue ;; esac
            kill -0 "$pw_old_pid" 2>/dev/null && continue
            rm -f "$pw_old" 2>/dev/null && echo 'PIPEWRIGHT_SWEPT=1'
          done
        }
        pw_has_key() {
          LC_ALL=C awk -v b="$pw_blob" '
            /^[ \\t]*#/ { next }
            { for (i = 1; i <= NF; i++) { f = $i; sub(/\\r$/, "", f); if (f == b) { found = 1; exit } } }
            END { exit found ? 0 : 1 }
          ' "$1"
        }

        """
    }

    /// Every UTF-8 byte of `text` as a `printf` octal escape (`A` → `\101`).
    static func octalEscaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count * 4)
        for byte in text.utf8 {
            let digits = String(byte, radix: 8)
            result += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
        }
        return result
    }
}
