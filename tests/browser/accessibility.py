"""axe-core (vendored in tests/browser/vendor/, MPL-2.0, from npm) run in the page a
browser test has open: the violations a person using a screen reader, a keyboard, or
weak eyes would meet, with the rule, its help text and the elements that fail it.

axe is injected as a script element. The portal's Content-Security-Policy allows only
its own scripts, so the page's context must be opened with `bypass_csp=True`: only the
accessibility test's contexts are, and the CSP test checks the policy everywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("critical", "serious")
"""The impacts that fail a page: axe's two highest."""

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html,
                                 summary: n.failureSummary})),
  }));
}"""


async def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """The critical and serious violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=AXE)
    violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict[str, Any]]) -> str:
    """A report a person can act on: each rule, why it matters, and where it fails."""
    lines = []
    for v in violations:
        lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)
