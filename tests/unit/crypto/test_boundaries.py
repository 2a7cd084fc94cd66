"""whistle.crypto is the only package that imports nacl (docs/crypto.md, ARCHITECTURE section 3);
plugins/ included: a plugin gets content only through the hooks that say so."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WHISTLE = ROOT / "whistle"
PLUGINS = ROOT / "plugins"


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
    sources = list(WHISTLE.rglob("*.py")) + list(PLUGINS.rglob("*.py"))
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if crypto not in path.parents and imports_nacl(path)
    ]
    assert offenders == []


def test_the_check_itself_sees_nacl_imports():
    assert imports_nacl(WHISTLE / "crypto" / "items.py")
