"""whistle.crypto is the only package that imports nacl (docs/crypto.md, ARCHITECTURE section 3)."""
import ast
from pathlib import Path

WHISTLE = Path(__file__).resolve().parents[3] / "whistle"


def imports_nacl(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "nacl" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] == "nacl":
                return True
    return False


def test_only_whistle_crypto_imports_nacl():
    crypto = WHISTLE / "crypto"
    offenders = [
        str(path.relative_to(WHISTLE))
        for path in WHISTLE.rglob("*.py")
        if crypto not in path.parents and imports_nacl(path)
    ]
    assert offenders == []


def test_the_check_itself_sees_nacl_imports():
    assert imports_nacl(WHISTLE / "crypto" / "items.py")
