"""End to end: a reviewer drives the review page in a real headless chromium.

Debian's ``chromium`` and ``chromedriver`` (``.ci/run`` installs them when missing); the
test skips, saying why, only when no browser or driver can be found. The page is served
on 127.0.0.1 by :class:`ltr.review.ReviewServer`, which stops by itself.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ltr.review import ReviewServer, open_review, read_reviewed
from ltr.simulate import write_session

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                "(pip install -e '.[dev]')")

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and Path(p).exists()), None)
DRIVER = next((p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver",
                           "/usr/lib/chromium/chromedriver") if p and Path(p).exists()), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason=f"no headless browser: chromium {'found' if CHROMIUM else 'not found'}, "
           f"chromedriver {'found' if DRIVER else 'not found'} (apt-get install chromium "
           "chromium-driver)")

#: Flags for a headless chromium on a closed network: without the background-networking
#: ones it keeps trying to reach Google's services and the sandbox refuses the connections.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def browser(tmp_path: Path) -> Any:
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    opts.binary_location = CHROMIUM
    d = webdriver.Chrome(options=opts, service=Service(DRIVER))
    d.set_page_load_timeout(20)
    d.set_script_timeout(20)
    return d


def wait(d: Any, script: str, timeout: float = 10.0) -> Any:
    """Poll a JavaScript expression until it is truthy; its value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = d.execute_script("return " + script)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def idle(d: Any) -> None:
    wait(d, "document.body.dataset.busy === '0' || document.body.dataset.busy === undefined")
    time.sleep(0.1)
    wait(d, "document.body.dataset.busy === '0' || document.body.dataset.busy === undefined")


def click_trace_at(d: Any, t: float) -> None:
    """Click the trace view at time ``t`` s (it must be in the window shown)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    cv = d.find_element(By.ID, "trace")
    t0, t1, width = d.execute_script(
        "const c = document.getElementById('trace');"
        "return [Number(c.dataset.t0), Number(c.dataset.t1), c.clientWidth]")
    assert t0 < t < t1, (t0, t, t1)
    left, right = 86, 4  # the plot's margins in review.js
    x = left + (t - t0) / (t1 - t0) * (width - left - right)
    ActionChains(d).move_to_element_with_offset(cv, round(x - width / 2), 40).click().perform()


def press(d: Any, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(d).send_keys(keys).perform()


def test_review_in_a_real_browser(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    rec_path = tmp_path / "sim.edf"
    write_session(rec_path, duration=45.0, sfreq=1000.0, layout="emg+acc", seed=11)
    session = open_review(rec_path, reviewer="Dr Test")
    out = session.path
    assert out == tmp_path / "sim.reviewed.tsv"
    initial = {r["candidate"]: r for r in read_reviewed(out)}
    twitches = sorted((r for r in initial.values() if r["detected_as"] == "twitch"),
                      key=lambda r: r["onset"])
    assert len(twitches) >= 3, "the simulated session should hold a few twitches"
    to_reject, to_move = twitches[0], twitches[2]

    # a reader polling the file all along never sees a partial one
    torn: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                rows = read_reviewed(out)
            except (ValueError, OSError) as err:
                torn.append(str(err))
            else:
                if len(rows) < len(initial):
                    torn.append(f"{len(rows)} rows")
            time.sleep(0.002)

    reader = threading.Thread(target=poll, daemon=True)
    srv = ReviewServer(session, duration=90, idle_timeout=30).start()
    d = None
    try:
        reader.start()
        d = browser(tmp_path)
        d.get(srv.url)
        wait(d, "document.body.dataset.ready === '1'")
        idle(d)
        cards = d.find_elements(By.CSS_SELECTOR, "#gallery .card")
        assert len(cards) == len(initial)
        # resumes at the first row not reviewed: the first one here
        first = min(initial.values(), key=lambda r: (r["onset"], r["candidate"]))
        assert d.execute_script("return window.ltrReview.current") == first["candidate"]

        # 1. reject a twitch with the keyboard: move to it with j, then r
        order = d.execute_script("return window.ltrReview.rows.map(r => r.candidate)")
        for _ in range(order.index(to_reject["candidate"])):
            press(d, "j")
        assert d.execute_script("return window.ltrReview.current") == to_reject["candidate"]
        press(d, "r")
        idle(d)
        wait(d, f"document.getElementById('card-{to_reject['candidate']}')"
                ".dataset.status === 'rejected'")

        # 2. add a missed twitch: t, then a click on the trace away from every candidate
        d.find_element(By.ID, f"card-{to_move['candidate']}").click()
        idle(d)
        t0, t1 = d.execute_script("const c = document.getElementById('trace');"
                                  "return [Number(c.dataset.t0), Number(c.dataset.t1)]")
        busy = [(r["onset"] - 0.3, r["onset"] + (r["duration"] or 0) + 0.3)
                for r in initial.values()]
        grid = [t0 + (t1 - t0) * k / 40 for k in range(2, 39)]
        free = [t for t in grid if all(not a <= t <= b for a, b in busy)]
        assert free, "no quiet spot in the window shown"
        t_add = free[len(free) // 2]
        press(d, "t")
        click_trace_at(d, t_add)
        idle(d)
        wait(d, "window.ltrReview.rows.some(r => r.review_status === 'added')")

        # 3. move an onset: select the twitch in the gallery, m, click its new place
        d.find_element(By.ID, f"card-{to_move['candidate']}").click()
        idle(d)
        t_move = to_move["onset"] + 0.04
        press(d, "m")
        click_trace_at(d, t_move)
        idle(d)
        wait(d, f"document.getElementById('card-{to_move['candidate']}')"
                ".dataset.status === 'moved'")
        shown = d.execute_script("return document.getElementById('saved').dataset.savedAt")
        assert shown
        px = d.execute_script("const c = document.getElementById('trace');"
                              "return (Number(c.dataset.t1) - Number(c.dataset.t0)) /"
                              " (c.clientWidth - 90)")
    finally:
        stop.set()
        reader.join(timeout=5)
        if d is not None:
            d.quit()
        srv.stop()

    assert not torn, f"a reader saw a partial reviewed file: {torn[:3]}"
    final = {r["candidate"]: r for r in read_reviewed(out)}
    changed = {k for k in final if final[k] != initial.get(k)}
    added = [k for k in final if k not in initial]
    assert len(added) == 1
    assert changed == {to_reject["candidate"], to_move["candidate"], added[0]}
    assert initial.keys() <= final.keys()

    rej = final[to_reject["candidate"]]
    assert (rej["review_status"], rej["trial_type"], rej["reviewer"]) == (
        "rejected", "twitch", "Dr Test")
    assert rej["onset"] == to_reject["onset"]

    mov = final[to_move["candidate"]]
    assert (mov["review_status"], mov["trial_type"]) == ("moved", "twitch")
    assert mov["detector_onset"] == to_move["onset"]
    # a click lands on a pixel: the onset is right to one pixel's time, plus one sample
    assert mov["onset"] == pytest.approx(t_move, abs=px + 1e-3)

    add = final[added[0]]
    assert (add["review_status"], add["trial_type"], add["detected_as"]) == (
        "added", "twitch", None)
    assert add["onset"] == pytest.approx(t_add, abs=px + 1e-3)  # as above
    for r in (rej, mov, add):
        assert time.strptime(r["reviewed_at"], "%Y-%m-%dT%H:%M:%SZ")


def test_drag_an_onset_in_the_trace(tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    rec_path = tmp_path / "sim.edf"
    write_session(rec_path, duration=30.0, sfreq=1000.0, layout="emg+acc", seed=12)
    session = open_review(rec_path, reviewer="Dr Drag")
    initial = {r["candidate"]: r for r in read_reviewed(session.path)}
    tw = min((r for r in initial.values() if r["detected_as"] == "twitch"),
             key=lambda r: r["onset"])
    srv = ReviewServer(session, duration=60, idle_timeout=30).start()
    d = None
    try:
        d = browser(tmp_path)
        d.get(srv.url)
        wait(d, "document.body.dataset.ready === '1'")
        d.find_element(By.ID, f"card-{tw['candidate']}").click()
        idle(d)
        cv = d.find_element(By.ID, "trace")
        t0, t1, width = d.execute_script(
            "const c = document.getElementById('trace');"
            "return [Number(c.dataset.t0), Number(c.dataset.t1), c.clientWidth]")
        pw = width - 90  # plot width: the margins in review.js
        x = 86 + (tw["onset"] - t0) / (t1 - t0) * pw
        shift = 25  # px, right
        ActionChains(d).move_to_element_with_offset(cv, round(x - width / 2), 40) \
            .click_and_hold().move_by_offset(10, 0).move_by_offset(shift - 10, 0) \
            .release().perform()
        idle(d)
        wait(d, f"document.getElementById('card-{tw['candidate']}').dataset.status === 'moved'")
    finally:
        if d is not None:
            d.quit()
        srv.stop()
    final = {r["candidate"]: r for r in read_reviewed(session.path)}
    assert {k for k in final if final[k] != initial[k]} == {tw["candidate"]}
    px = (t1 - t0) / pw
    # the grab and the release each land on a pixel: 2 px and a sample of slack
    assert final[tw["candidate"]]["onset"] == pytest.approx(tw["onset"] + shift * px,
                                                            abs=2 * px + 1e-3)
