"""Time the review page in headless chromium: page load, snippet latency, a scripted review.

    python benchmarks/review_timing.py recordings/sample_emg_acc.edf --review
    python benchmarks/make_long.py /tmp/long1h.edf --hours 1 --channels 4
    python benchmarks/review_timing.py /tmp/long1h.edf --screenshot /tmp/page.png

The recording is copied to a temporary folder first, so its reviewed file does not land
beside it. Prints (seconds): detection and session start, page load (navigation to the
first trace drawn), the latency of the snippets the browser fetched (median, 95th
percentile), the trace-window latency, and with ``--review`` a scripted review that
answers every candidate with ``a`` (every fifth with ``r``) and waits for each save:
seconds per candidate and in total. A scripted reviewer measures the page, not a
clinician's reading time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ltr.review import ReviewServer, open_review

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("recording")
    p.add_argument("--review", action="store_true", help="script a full review")
    p.add_argument("--screenshot", help="PNG of the page after loading (and reviewing)")
    args = p.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains

    tmp = Path(tempfile.mkdtemp(prefix="ltr-review-"))
    rec = tmp / Path(args.recording).name
    shutil.copy(args.recording, rec)
    t = time.perf_counter()
    session = open_review(rec, reviewer="benchmark")
    t_open = time.perf_counter() - t
    n = len(session.rows)
    print(f"{Path(args.recording).name}: {session.recording.duration / 60:.1f} min, {n} "
          f"candidates; detect + open the review: {t_open:.2f} s")
    span = max(session.recording.duration - 10, 1)
    t = time.perf_counter()
    for k in range(20):
        session.trace((37.0 * k) % span, (37.0 * k) % span + 10, 1300)
    print(f"server: a 10-s trace window of 1300 columns in "
          f"{(time.perf_counter() - t) / 20 * 1000:.1f} ms")

    opts = webdriver.ChromeOptions()
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={tmp / 'profile'}")
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    with ReviewServer(session, duration=3600) as srv:
        d = webdriver.Chrome(options=opts, service=Service(driver))
        try:
            t = time.perf_counter()
            d.get(srv.url)
            while d.execute_script("return document.body.dataset.ready") != "1" or \
                    d.execute_script("return !window.ltrReview.trace"):
                time.sleep(0.01)
            print(f"page load (navigation to first trace drawn): "
                  f"{time.perf_counter() - t:.2f} s")
            time.sleep(1.0)
            ms = d.execute_script(
                "return performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('/api/trace') && e.name.includes('n=230'))"
                ".map(e => e.duration)")
            if ms:
                print(f"snippets fetched by the browser: {len(ms)}, median "
                      f"{np.median(ms):.0f} ms, 95th percentile {np.percentile(ms, 95):.0f} ms")
            one = d.execute_async_script("""
                const done = arguments[arguments.length - 1], out = [];
                (async () => {
                  const rows = window.ltrReview.rows.slice(-20);
                  for (const r of rows) {
                    const t = performance.now();
                    await (await fetch(`/api/trace?t0=${Math.max(0, r.onset - 0.3)}` +
                      `&t1=${r.onset + 0.5}&n=230&ch=${encodeURIComponent(r.channel)}`)).json();
                    out.push(performance.now() - t);
                  }
                  done(out);
                })();""")
            print(f"one snippet at a time (browser fetch to JSON parsed): median "
                  f"{np.median(one):.0f} ms, max {np.max(one):.0f} ms")
            if args.review:
                per = []
                t_all = time.perf_counter()
                for i in range(n):
                    key = "r" if i % 5 == 4 else "a"
                    cur = d.execute_script("return window.ltrReview.current")
                    t = time.perf_counter()
                    ActionChains(d).send_keys(key).perform()
                    while d.execute_script(
                            f"return window.ltrReview.byId['{cur}'].review_status") is None:
                        time.sleep(0.005)
                    per.append(time.perf_counter() - t)
                total = time.perf_counter() - t_all
                c = session.counts()
                print(f"scripted review: {n} candidates in {total:.1f} s, "
                      f"{total / max(n, 1):.3f} s per candidate (keypress to saved: median "
                      f"{np.median(per) * 1000:.0f} ms); {c['reviewed']} reviewed")
                tr = d.execute_script(
                    "return performance.getEntriesByType('resource')"
                    ".filter(e => e.name.includes('/api/trace') && !e.name.includes('n=230'))"
                    ".map(e => e.duration)")
                print(f"trace windows fetched while reviewing: {len(tr)}, median "
                      f"{np.median(tr):.0f} ms")
            if args.screenshot:
                d.save_screenshot(args.screenshot)
        finally:
            d.quit()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
