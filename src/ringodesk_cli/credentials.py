"""Where secrets live: the system keyring (with a timeout), an opt-in 0600 file, or env vars.

The client secret, the refresh token and the Ringostat key never go into the TOML. They live
in the system keyring (service ``ringodesk``, username ``<profile>:<name>``). Environment
variables override stored values, because cron on a headless server usually has no keyring
at all; a store reads them from the mapping it is given (the run's ``Environment``), else
from the process.

Every keyring call runs in a daemon thread joined with a timeout: on a headless Linux box
an unreachable or locked D-Bus Secret Service can block forever (jaraco/keyring#569,
pypa/twine#1276; the GitHub CLI wraps its keyring calls the same way, cli/cli#7356). A
keyring that failed once is remembered as failed for the rest of the process, as pdm's
keyring wrapper does, so a run does not wait the timeout again on every call.

When no keyring works we fail loudly (cli/cli#10108: a silent plain-text fallback leaves
users clueless); the error's hint names ``--insecure-storage`` and the env vars. The
insecure store is ``<state_dir>/secrets.json``, created 0600 and re-checked on every use;
storing a secret in it is reported through the ``warn`` callback (once per store: reading it,
as every cron run does, is not, since a warning on every command is one nobody reads;
``auth status`` names the store). Nothing here prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO, TypeVar

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null

from ringodesk_cli.environment import process_vars
from ringodesk_cli.errors import CredentialStoreError, UsageError
from ringodesk_cli.redact import register_secret

SERVICE = "ringodesk"
SECRET_NAMES = ("client_secret", "refresh_token", "ringostat_key", "webhook_secret")
ENV_VARS = {
    "client_secret": "RINGODESK_CLIENT_SECRET",
    "refresh_token": "RINGODESK_REFRESH_TOKEN",
    "ringostat_key": "RINGODESK_RINGOSTAT_KEY",
    "webhook_secret": "RINGODESK_WEBHOOK_SECRET",
}
SECRETS_FILE = "secrets.json"
INSECURE_WARNING = (
    "secrets are stored in a plain file ({path}), readable by anyone who can read your "
    "account's files; prefer the system keyring or environment variables"
)

T = TypeVar("T")

# Failures remembered for the rest of the process. Keyed by backend identity (the backend
# object is kept alive so its id cannot be reused) so that installing a different backend
# (keyring.set_keyring, as the tests do) starts afresh. ``_init_failure`` covers a hang
# while keyring itself is still choosing its backend.
_lock = threading.Lock()
_failed_backends: dict[int, tuple[object, str]] = {}
_init_failure: str | None = None


def forget_keyring_failures() -> None:
    """Used by tests: forget every keyring remembered as failed."""
    global _init_failure
    with _lock:
        _failed_backends.clear()
        _init_failure = None


class _TimedOut(Exception):
    pass


def _with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` in a daemon thread; a hung call is abandoned (it cannot block exit)."""
    values: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="ringodesk-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _TimedOut
    if errors:
        raise errors[0]
    return values[0]


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    name = getattr(backend, "name", None)
    return str(name) if name else type(backend).__name__


def _unusable(backend: keyring.backend.KeyringBackend) -> bool:
    # keyring picks fail.Keyring when nothing is available and null.Keyring when disabled;
    # a chainer with nothing to chain behaves like null: it "stores" by dropping the value.
    if isinstance(backend, fail.Keyring | null.Keyring):
        return True
    return isinstance(backend, chainer.ChainerBackend) and not backend.backends


def _fmt_seconds(timeout: float) -> str:
    return f"{timeout:g}s"


def _check_name(name: str) -> None:
    if name not in SECRET_NAMES:
        raise ValueError(f"unknown secret {name!r}; expected one of {', '.join(SECRET_NAMES)}")


class CredentialStore:
    """The secrets of one profile: env vars first, then the keyring or the insecure file."""

    def __init__(
        self,
        profile: str,
        state_dir: Path,
        *,
        insecure: bool = False,
        timeout: float = 5.0,
        warn: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.profile = profile
        # The variables that override stored secrets; default: the process's.
        self._env: Mapping[str, str] = process_vars() if env is None else env
        self.state_dir = Path(state_dir)
        self.timeout = timeout
        self._warn = warn or (lambda _message: None)
        self._warned_plain = False  # the plain-file warning: once, when a secret is stored
        self.file_path = self.state_dir / SECRETS_FILE
        # Once a profile went insecure its file keeps being used, so a later run without
        # the flag (cron) still finds the secrets that `activate --insecure-storage` saved.
        self._insecure = insecure or self.file_path.exists()

    @property
    def kind(self) -> str:
        return "file" if self._insecure else "keyring"

    # -- public API ---------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        _check_name(name)
        from_env = self._from_env(name)
        if from_env is not None:
            return from_env
        value = self._file_get(name) if self._insecure else self._keyring_get(name)
        register_secret(value)
        return value

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        value = value.strip()
        if not value:
            raise UsageError(f"refusing to store an empty {name.replace('_', ' ')}")
        register_secret(value)
        if self._insecure:
            self._file_update(name, value)
        else:
            self._keyring_call(
                lambda kr: kr.set_password(SERVICE, self._username(name), value),
                f"could not store {name} in the system keyring",
            )

    def delete(self, name: str) -> None:
        _check_name(name)
        if self._insecure:
            self._file_update(name, None)
            return

        def remove(kr: keyring.backend.KeyringBackend) -> None:
            # Already absent is fine: deleting is idempotent.
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                kr.delete_password(SERVICE, self._username(name))

        self._keyring_call(remove, f"could not delete {name} from the system keyring")

    def source(self, name: str) -> str | None:
        _check_name(name)
        if self._from_env(name) is not None:
            return f"env {ENV_VARS[name]}"
        if self._insecure:
            return f"file {self.file_path}" if self._file_get(name) is not None else None
        return "keyring" if self._keyring_get(name) is not None else None

    def describe(self) -> dict[str, object]:
        """Which store is used and where each secret comes from; never a value.

        A broken keyring does not raise here: ``auth status`` must still be able to say
        that env vars cover cron and what is wrong with the keyring (``problem``).
        """
        result: dict[str, object] = {}
        stored: dict[str, str] | None = None
        try:
            if self._insecure:
                result["store"] = f"file {self.file_path} (insecure)"
                stored = {}
                stored = self._file_load()  # read once, not once per secret
            else:
                result["store"] = f"keyring ({_backend_name(self._backend())})"
        except CredentialStoreError as exc:
            result.setdefault("store", "keyring (unavailable)")
            result["problem"] = exc.message
        sources: dict[str, str | None] = {}
        for name in SECRET_NAMES:
            if self._from_env(name) is not None:
                sources[name] = f"env {ENV_VARS[name]}"
            elif stored is not None:
                sources[name] = f"file {self.file_path}" if name in stored else None
            elif "problem" in result:
                sources[name] = None
            else:
                try:
                    sources[name] = "keyring" if self._keyring_get(name) is not None else None
                except CredentialStoreError as exc:
                    sources[name] = None
                    result["problem"] = exc.message
        result["secrets"] = sources
        return result

    # -- environment --------------------------------------------------------------------

    def _from_env(self, name: str) -> str | None:
        value = self._env.get(ENV_VARS[name], "").strip()
        if not value:
            return None
        register_secret(value)
        return value

    # -- keyring ------------------------------------------------------------------------

    def _username(self, name: str) -> str:
        return f"{self.profile}:{name}"

    def _backend(self) -> keyring.backend.KeyringBackend:
        global _init_failure
        with _lock:
            init_failure = _init_failure
        if init_failure is not None:
            raise CredentialStoreError(init_failure)
        try:
            backend = _with_timeout(keyring.get_keyring, self.timeout)
        except _TimedOut:
            message = (
                f"the system keyring did not answer within {_fmt_seconds(self.timeout)} "
                "(no D-Bus session or a locked keyring?)"
            )
            with _lock:
                _init_failure = message
            raise CredentialStoreError(message) from None
        except Exception as exc:  # any keyring failure means "no keyring"
            message = f"the system keyring could not be loaded: {exc}"
            with _lock:
                _init_failure = message
            raise CredentialStoreError(message) from exc
        with _lock:
            failed = _failed_backends.get(id(backend))
        if failed is not None:
            raise CredentialStoreError(failed[1])
        if _unusable(backend):
            message = f"no usable system keyring was found ({_backend_name(backend)})"
            self._remember(backend, message)
            raise CredentialStoreError(message)
        return backend

    @staticmethod
    def _remember(backend: keyring.backend.KeyringBackend, message: str) -> None:
        with _lock:
            _failed_backends[id(backend)] = (backend, message)

    def _keyring_call(self, op: Callable[[keyring.backend.KeyringBackend], T], what: str) -> T:
        backend = self._backend()
        try:
            return _with_timeout(lambda: op(backend), self.timeout)
        except _TimedOut:
            message = (
                f"{what}: the system keyring did not answer within "
                f"{_fmt_seconds(self.timeout)} (no D-Bus session or a locked keyring?)"
            )
            self._remember(backend, message)
            raise CredentialStoreError(message) from None
        except Exception as exc:  # any keyring failure means "no keyring"
            message = f"{what}: {type(exc).__name__}: {exc}"
            self._remember(backend, message)
            raise CredentialStoreError(message) from exc

    def _keyring_get(self, name: str) -> str | None:
        value = self._keyring_call(
            lambda kr: kr.get_password(SERVICE, self._username(name)),
            f"could not read {name} from the system keyring",
        )
        return value or None

    # -- insecure file ------------------------------------------------------------------

    def _file_checked(self) -> bool:
        """Make sure the file is ours and private. False when it does not exist."""
        try:
            info = os.lstat(self.file_path)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(info.st_mode):
            raise CredentialStoreError(
                f"{self.file_path} is not a regular file; refusing to use it"
            )
        if info.st_uid != os.geteuid():
            raise CredentialStoreError(
                f"{self.file_path} belongs to another user (uid {info.st_uid}); refusing to use it"
            )
        if info.st_mode & 0o077:
            os.chmod(self.file_path, 0o600)
            self._warn(
                f"{self.file_path} was readable by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); reset it to 0600 - consider the secrets "
                "in it exposed and replace them"
            )
        return True

    def _file_load(self) -> dict[str, str]:
        if not self._file_checked():
            return {}
        try:
            fd = os.open(self.file_path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            # No detail from the parser: it may quote part of a secret.
            raise CredentialStoreError(
                f"{self.file_path} is unreadable or not valid JSON ({type(exc).__name__})",
                hint=f"fix or remove {self.file_path}, then store the secrets again",
            ) from None
        if not isinstance(data, dict):
            raise CredentialStoreError(f"{self.file_path} does not hold a JSON object")
        stored = {str(k): v for k, v in data.items() if isinstance(v, str) and v}
        for value in stored.values():
            register_secret(value)
        return stored

    def _file_get(self, name: str) -> str | None:
        return self._file_load().get(name)

    def _file_update(self, name: str, value: str | None) -> None:
        if not self._warned_plain:
            self._warned_plain = True
            self._warn(INSECURE_WARNING.format(path=self.file_path))
        data = self._file_load()
        if value is None:
            if name not in data:
                return
            del data[name]
        else:
            data[name] = value
        self._file_write(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _file_write(self, text: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.state_dir / f".{SECRETS_FILE}.{secrets.token_hex(8)}.tmp"
        # Created 0600 from the start (never chmod after the fact): there is no moment in
        # which the secrets sit in a file others may read. O_EXCL refuses a planted file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.file_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def read_secret(path: Path | None, stdin: TextIO, *, what: str, stdin_is_tty: bool) -> str:
    """A secret from a file (``-`` means stdin) or from piped stdin; never from a flag value.

    The client secret, refresh token and Ringostat key never come from a flag, because flag
    values end up in shell history and ``ps`` output.
    """
    if path is None or str(path) == "-":
        if path is None and stdin_is_tty:
            raise UsageError(
                f"no {what} given: pass it in a file (or '-' for stdin) or pipe it on stdin; "
                "it is never accepted as a flag value"
            )
        text = stdin.read()
        origin = "stdin"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the {what} from {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"the {what} in {path} is not UTF-8 text") from None
        origin = str(path)
    value = text.strip()
    if not value:
        raise UsageError(f"the {what} from {origin} is empty")
    if any(ch.isspace() for ch in value):
        # No secret we store contains whitespace; two lines usually mean the wrong file.
        raise UsageError(f"the {what} from {origin} contains spaces or several lines")
    register_secret(value)
    return value
