"""axe-core accessibility checks on a page: node_modules/axe-core/axe.min.js (package.json, installed
by `make install`) is evaluated in the page and its violations come back.

The source goes in through Playwright's evaluate, and needs a context with bypass_csp=True, as the
service's CSP allows no script and no eval. In a context with JavaScript off, evaluate still runs
(over the DevTools protocol), promises too, but no timer ever fires, and axe waits on setTimeout
between its steps: there (`javascript_off=True`) the window's setTimeout is replaced, for axe alone
since the page's own scripts never ran, by one that runs a short wait's callback at once (as a
microtask) and never a long one's (axe's waits for frames, which these pages have none of). So
axe checks the page as a browser without JavaScript shows it: its <noscript> parts included."""
from __future__ import annotations

from functools import cache

from tests.e2e.server import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA (target size 2.5.8 and contrast included), and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

NO_TIMERS = """() => {
  window.setTimeout = (callback, wait, ...values) => {
    if (!(wait > 100)) Promise.resolve().then(() => callback(...values));
    return 0;
  };
  window.clearTimeout = () => {};
}"""
LOAD = "(source) => { if (typeof window.axe !== 'object') (0, eval)(source); return typeof window.axe; }"
# Only the violations: collecting the passes too takes axe several times longer.
RUN = """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}))
  .violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html)}))"""


@cache
def axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (it runs `npm ci`)")
    return AXE.read_text()


def axe_violations(page, *, javascript_off: bool = False) -> list[dict]:
    """Every axe violation on the page as it is now: [{id, impact, help, nodes: [html, ...]}]."""
    if javascript_off:
        page.evaluate(NO_TIMERS)
    loaded = page.evaluate(LOAD, axe_source())
    assert loaded == "object", f"axe-core did not load in the page ({loaded}): does its context have bypass_csp=True?"
    return page.evaluate(RUN, TAGS)


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in violations)
