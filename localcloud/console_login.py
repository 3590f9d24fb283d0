"""`make dev`'s one-time console login token, made by the layer's own code (hub.console.auth:
stored as its SHA-256 digest in ConsoleTable, valid one hour, consumed once).

Run by ``localcloud.aws.create_console_login_token`` in a child process with the layer on its
path and ConsoleApi's environment (the local cloud's own process never imports the layer);
prints the token on stdout.
"""

from __future__ import annotations

import sys


def main() -> int:
    from hub.console.auth import create_login_token

    print(create_login_token())
    return 0


if __name__ == "__main__":
    sys.exit(main())
