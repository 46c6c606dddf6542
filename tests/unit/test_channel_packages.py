"""The house rules of the channel packages, read from the source: a provider's library is imported
only inside its channel's package, and no channel reaches the database or the conversation."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("bot", "scheduler", "store", "messages", "fikafollow")
PROVIDERS = {"telegram": "telegram", "twilio": "sms", "aiosmtplib": "email", "aioimaplib": "email"}
# what a channel's code may not import at run time: it hands what it read to bot.inbound's
# interface instead
FORBIDDEN_IN_CHANNELS = ("sqlalchemy", "bot.conversation", "bot.inbound", "fikafollow")


def _runtime_imports(path: Path) -> Iterator[str]:
    """Modules the file imports when it runs (imports under `if TYPE_CHECKING:` are types)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            typing_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _sources() -> Iterator[Path]:
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_provider_libraries_are_imported_only_in_their_channel_package() -> None:
    wrong = []
    for path in _sources():
        where = path.relative_to(ROOT).parts
        for module in _runtime_imports(path):
            channel = PROVIDERS.get(module.split(".", 1)[0])
            if channel is not None and where[:3] != ("bot", "channels", channel):
                wrong.append(f"{'/'.join(where)} imports {module}")
    assert wrong == []


def test_channel_packages_reach_neither_the_database_nor_the_conversation() -> None:
    wrong = []
    for path in sorted((ROOT / "bot" / "channels").rglob("*.py")):
        for module in _runtime_imports(path):
            if any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IN_CHANNELS):
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []
