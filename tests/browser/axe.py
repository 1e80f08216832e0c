"""axe-core on every page a browser test visits (issue 9: accessibility checked in CI).

axe.min.js comes from the ``axe-playwright-python`` package (nothing is fetched). It is added
to every page of the browser context as an init script that runs axe once the page has loaded
and hands the serious and critical violations back to Python through an exposed binding.
``page.goto`` waits for its page's result, so a page reached directly is always checked; a page
reached by a click is checked as soon as it loads, and the last one is waited for at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import BrowserContext, Page

FAILING_IMPACTS = ("serious", "critical")

RUNNER = """
(() => {
  if (window.top !== window) return;
  window.__axeDone = false;
  window.addEventListener("load", () => {
    axe.run(document, { resultTypes: ["violations"] }).then((results) => {
      const serious = results.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
        }));
      window.__axeReport({ url: location.href, lang: document.documentElement.lang, violations: serious })
        .then(() => { window.__axeDone = true; });
    });
  });
})();
"""


@dataclass
class AxeLog:
    checked: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)

    def record(self, _source: Any, report: dict[str, Any]) -> None:
        self.checked.append(f"{report['url']} [{report['lang']}]")
        for violation in report["violations"]:
            self.violations.append({"url": report["url"], "lang": report["lang"], **violation})

    def failures(self) -> str:
        return "\n".join(
            f"{v['impact']}: {v['id']} ({v['help']}) on {v['url']} [{v['lang']}] at {v['nodes']}"
            for v in self.violations
        )


def axe_watch(context: BrowserContext) -> AxeLog:
    """Check every page loaded in ``context`` from now on."""
    log = AxeLog()
    context.expose_binding("__axeReport", log.record)
    context.add_init_script(script=Axe().axe_script + "\n" + RUNNER)
    return log


def wait_for_axe(page: Page) -> None:
    """Wait until axe has reported on the page now shown (it runs after the load event)."""
    if page.url.startswith("http"):
        page.wait_for_function("() => window.__axeDone === true", timeout=15_000)


def axe_checked_goto(page: Page) -> None:
    """Make ``page.goto`` wait for the axe result of the page it opens."""
    goto = page.goto

    def checked_goto(url: str, **kwargs: Any) -> Any:
        response = goto(url, **kwargs)
        wait_for_axe(page)
        return response

    page.goto = checked_goto  # type: ignore[method-assign]
