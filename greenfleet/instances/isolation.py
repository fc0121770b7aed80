"""What an instance process may see and do: its environment, its user, its images, its model data.

A worker runs the model's code (a script, an MLflow loader, a shell command), so it gets nothing of the
server's that it does not need. Its environment is built from scratch: a few harmless host variables
(:data:`HOST_VARIABLES`), the container's ``Environment``, the worker contract the backend adds (the
SageMaker variables and a few ``GREENFLEET_`` ones), and the AWS credentials only when its model data
lives in S3 (as SageMaker hands a container its execution role). The server's token, its SigV4 secrets,
its database URL and every other ``GREENFLEET_`` setting stay out.
"""

from __future__ import annotations

import pwd
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AWS_VARIABLES", "HOST_VARIABLES", "Isolation", "WorkerUser", "parse_list"]

HOST_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SSL_CERT_FILE",
                  "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
                  "https_proxy", "no_proxy")
"""Variables of the server's environment every worker keeps (plus ``LC_*``, and ``HOME`` when the worker
runs as the server's own user)."""

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE")
"""Passed only to a worker whose ModelDataUrl (or SAGEMAKER_SUBMIT_DIRECTORY) is an ``s3://`` URL."""


def parse_list(text: str | None) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of its non-empty, stripped items."""
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class WorkerUser:
    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def lookup(cls, name: str) -> WorkerUser:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ValueError(f"GREENFLEET_WORKER_USER: there is no user '{name}' on this machine") from None
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


@dataclass(frozen=True, slots=True)
class Isolation:
    passthrough: Sequence[str] = ()
    """Further variable names of the server's environment handed to every worker
    (``worker_environment_passthrough``)."""

    user: WorkerUser | None = None
    """Run workers as this user (the server must be able to switch to it, i.e. run as root)."""

    model_data_roots: Sequence[Path] = field(default_factory=tuple)
    """Directories a local ModelDataUrl may name (empty: no restriction; the worker contract's default)."""

    allow_link_local: bool = False
    """Let http(s) model data come from link-local and cloud metadata addresses."""

    allowed_images: Sequence[str] = ("*",)
    """Image patterns instances may run (``images.py``'s matching)."""

    def environment(self, server: Mapping[str, str], container: Mapping[str, str], *,
                    wants_s3: bool) -> dict[str, str]:
        """The base environment of a worker (the backend adds the contract variables on top)."""
        names = set(HOST_VARIABLES) | set(self.passthrough)
        if self.user is None:
            names.add("HOME")
        if wants_s3:
            names |= set(AWS_VARIABLES)
        env = {k: v for k, v in server.items() if k in names or k.startswith("LC_")}
        if self.user is not None:
            env["HOME"] = self.user.home
        env.update({str(k): str(v) for k, v in container.items()})
        return env
