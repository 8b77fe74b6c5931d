"""Real parts the browser suite drives: `pipewright serve`, the in-repo fake Bitbucket, a throwaway sshd.

Nothing here is a mock. The service is the built binary on a fresh data dir and a free port; Bitbucket is
`pipewright-fake-bitbucket` (Tests/Support, the same fake the Swift tests use) over HTTP; SSH is OpenSSH's
sshd started as root on 127.0.0.1 with its own config, host key and a fresh local user with a password
(the recipe of /work/shared/reference/test-fixtures.md and PipewrightTesting.SSHDFixture).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=10.0, interval=0.05, message="condition"):
    """Polls `condition` until it returns a truthy value; returns that value or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class FakeBitbucket:
    """`pipewright-fake-bitbucket`: one JSON command per line on stdin, one JSON answer per line on stdout."""

    email = "browser@example.com"
    token = "browser-bitbucket-token"

    def __init__(self, binary):
        self.process = subprocess.Popen(
            [binary, "--email", self.email, "--token", self.token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        hello = json.loads(self.process.stdout.readline())
        self.base_url = hello["base_url"]

    def command(self, cmd, **arguments):
        self.process.stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise AssertionError(f"fake Bitbucket refused {cmd}: {answer['error']}")
        return answer

    def runs(self):
        return self.command("runs")["runs"]

    def stop(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Service:
    """A real `pipewright serve` on a temp data dir and a free 127.0.0.1 port."""

    def __init__(self, binary, work, bitbucket_url):
        self.binary = binary
        self.work = Path(work)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "PIPEWRIGHT_DATA_DIR": str(self.work / "data"),
            "PIPEWRIGHT_HOST": "127.0.0.1",
            "PIPEWRIGHT_PORT": str(self.port),
            "BITBUCKET_API_URL": bitbucket_url,
            "PIPEWRIGHT_POLL_INTERVAL": "1",
            "PIPEWRIGHT_MONITOR_TIMEOUT": "3600",
            # Every test signs in through the form; the default 10 attempts per 5 minutes would trip.
            "PIPEWRIGHT_RATE_LIMIT_LOGIN": "1000/60",
            "PIPEWRIGHT_RATE_LIMIT_LOGIN_IP": "1000/60",
            "PIPEWRIGHT_RATE_LIMIT_TRIGGER": "1000/60",
            "PIPEWRIGHT_LOGIN_FAILURE_DELAY_MS": "0",
            "LOG_LEVEL": "warning",
        }
        self.log = open(self.work / "serve.log", "wb")
        self.process = subprocess.Popen(
            [binary, "serve"], env=self.environment, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, timeout=120, interval=0.2, message=f"{self.base}/health")
        self.admin_password = (self.work / "data" / "initial-admin-password").read_text().strip()
        created = subprocess.run(
            [binary, "token", "create", "admin", "--name", "browser-suite"],
            env=self.environment, capture_output=True, text=True, check=True)
        self.token = created.stdout.strip()
        assert self.token.startswith("pw_"), created.stdout + created.stderr

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"pipewright serve exited: {(self.work / 'serve.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.base}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, method, path, body=None, raw=None, timeout=120):
        """One JSON API call as the admin (bearer token); returns (status, decoded body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text

    def ok(self, method, path, body=None, raw=None):
        status, answer = self.api(method, path, body=body, raw=raw)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
        return answer

    def ingest(self, execution_id, step, text, finish=False):
        """Appends log text through the admin ingestion endpoint (`POST /api/executions/{id}/logs`)."""
        query = f"step={urllib.request.quote(step)}&finish={'true' if finish else 'false'}"
        return self.ok("POST", f"/api/executions/{execution_id}/logs?{query}", raw=text.encode())

    def execution(self, execution_id):
        return self.ok("GET", f"/api/executions/{execution_id}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class SSHD:
    """A root-started sshd on 127.0.0.1 (free high port) for one fresh local user with a password."""

    def __init__(self):
        if os.geteuid() != 0:
            raise AssertionError("the browser suite starts sshd as root for password logins (run scripts/test as root)")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="pw-browser-sshd-"))
        self.user = "pwb_" + secrets.token_hex(5)
        self.password = secrets.token_urlsafe(18)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", self.user], check=True, capture_output=True)
        subprocess.run(["chpasswd"], input=f"{self.user}:{self.password}\n", text=True, check=True)
        self.home = Path(os.path.expanduser(f"~{self.user}"))
        key = self.directory / "hk_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        self.port = free_port()
        (self.directory / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {self.directory}/sshd.pid\n"
            "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin no\nStrictModes yes\nAuthorizedKeysFile .ssh/authorized_keys\nLogLevel VERBOSE\n"
            f"AllowUsers {self.user}\n"
        )
        self.log_path = self.directory / "sshd.log"
        self.process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.directory / "sshd_config")],
            stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        wait_until(
            lambda: self.process.poll() is None and "Server listening on" in self.log_path.read_text(),
            timeout=10, message=f"sshd on port {self.port} ({self.log_path})")

    def authorized_keys(self):
        path = self.home / ".ssh" / "authorized_keys"
        return path.read_text() if path.exists() else ""

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        subprocess.run(["userdel", "-r", "-f", self.user], capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


class CuttableProxy:
    """A TCP relay in front of the service whose connections the test can cut (as a network drop or a
    proxy restart would): `cut()` closes every open connection and refuses new ones until `restore()`."""

    def __init__(self, port):
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.accepting = True
        self.sockets = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source, destination):
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        for end in (source, destination):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.accepting = False
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for end in sockets:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def restore(self):
        self.accepting = True

    def close(self):
        self.cut()
        self.listener.close()
