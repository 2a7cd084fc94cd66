"""axe-core accessibility checks on a page: node_modules/axe-core/axe.min.js (package.json, installed
by `make install`) is injected into the page, which needs a context with JavaScript on and
bypass_csp=True (the service's CSP allows no script at all), and its violations come back."""
from __future__ import annotations

from tests.e2e.server import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """Every axe violation on the page as it is now: [{id, impact, help, nodes: [html, ...]}]."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (it runs `npm ci`)")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
                               TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]]}
            for v in violations]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in violations)
