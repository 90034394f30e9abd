"""The weekly email's HTML in a real browser: no external requests, no console errors, a PNG to look at."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from responsegap.report import compose_rollup, compose_weekly_report
from responsegap.report.render import render_html, render_rollup_html
from tests.unit.report import report_sample as sample

pytestmark = pytest.mark.browser
OUT = Path(__file__).resolve().parents[2] / "out" / "browser"


def _report():
    store = sample.FakeStore(
        completeness={"instagram#acme.help": sample.BAD_COMPLETENESS},
        snapshots={"2026-W46": sample.W46, "2026-W44": sample.W44},
    )
    return compose_weekly_report(store, sample.brand(), sample.WEEK, sample.AS_OF)


def _load(devtools, path: Path) -> str:
    target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        devtools.send(f"{domain}.enable", session=session)
    devtools.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 900, "height": 1200, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    devtools.send("Page.navigate", {"url": path.as_uri()}, session=session)
    devtools.wait_for("Page.loadEventFired")
    devtools.settle(1.0)
    return session


def _screenshot(devtools, session: str, png: Path) -> None:
    metrics = devtools.send("Page.getLayoutMetrics", session=session)
    height = int(metrics["cssContentSize"]["height"]) + 1
    devtools.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 900, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    shot = devtools.send(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session
    )
    png.write_bytes(base64.b64decode(shot["data"]))


def _problems(devtools) -> tuple[list[str], list[str]]:
    external = [
        e["params"]["request"]["url"]
        for e in devtools.events
        if e["method"] == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith("file:")
    ]
    errors = [
        str(e["params"])
        for e in devtools.events
        if (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        or e["method"] == "Page.javascriptDialogOpening"
    ]
    return external, errors


@pytest.mark.parametrize("which", ["report", "rollup"])
def test_report_renders_in_chromium_without_requests_or_errors(devtools, which):
    OUT.mkdir(parents=True, exist_ok=True)
    report = _report()
    html = render_html(report) if which == "report" else render_rollup_html(compose_rollup([report]))
    page = OUT / f"{which}.html"
    page.write_text(html, encoding="utf-8")
    session = _load(devtools, page)

    png = OUT / f"{which}.png"
    _screenshot(devtools, session, png)
    print(f"screenshot: {png}")
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    external, errors = _problems(devtools)
    assert external == [], f"the email made requests: {external}"
    assert errors == [], f"console errors: {errors}"

    # Hostile customer text must be shown as text, never become elements.
    counted = devtools.send(
        "Runtime.evaluate",
        {"expression": "document.querySelectorAll('script,img,iframe,object,embed,link,style,form').length"},
        session=session,
    )
    assert counted["result"]["value"] == 0
    if which == "report":
        body = devtools.send("Runtime.evaluate", {"expression": "document.body.innerText"}, session=session)[
            "result"
        ]["value"]
        assert "<script>alert(1)</script>" in body  # visible as text
        links = devtools.send(
            "Runtime.evaluate",
            {"expression": "Array.from(document.links).map(a => a.href).join('\\n')"},
            session=session,
        )["result"]["value"].split("\n")
        assert links and all(link.startswith("https://") for link in links)
        assert not any("javascript:" in link for link in links)
