"""The page at ``/`` in a real browser: Debian's headless Chromium, driven by selenium
through Debian's chromium-driver, with a fake camera playing a ``.y4m`` video of two
real people (scikit-image's astronaut and cameraman). The page asks for the camera,
streams it to ``/v1/stream`` and, within the test's time, shows two tracks each with a
label in its DOM. The screenshot is kept: ``page.png`` in the test's folder (its path
printed), and in ``$STGCN_SERVE_ARTEFACTS`` where that names a folder (CI keeps it)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from pictures import make_y4m
from serve_helpers import running_server

pytest.importorskip("mediapipe")
webdriver = pytest.importorskip("selenium.webdriver")

#: how long the page may take to show both tracks' labels: the camera, the socket, and
#: a window of frames estimated on a shared 2-core machine
LABELS_SECONDS = 150


def browser_programs() -> tuple[str, str]:
    """Chromium and its driver (Debian's ``chromium`` and ``chromium-driver``; .ci/run
    installs them). Missing outside CI: the test is skipped; in CI: it fails."""
    found = [shutil.which(name) for name in ("chromium", "chromedriver")]
    if None in found:
        message = (
            "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found[0], found[1]  # type: ignore[return-value]


def chromium(camera: Path, folder: Path):  # type: ignore[no-untyped-def]
    browser, driver = browser_programs()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",  # the camera is allowed without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        "--window-size=1000,800",
        f"--user-data-dir={folder / 'profile'}",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=driver, log_output=str(folder / "driver.log"))
    return webdriver.Chrome(options=options, service=service)


def page_tracks(browser) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each track the page lists, with the label it shows."""
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#tracks li.track')].map("
        "item => [item.dataset.track, item.querySelector('.label').textContent]);"
    )
    return {track: label for track, label in shown}


@pytest.mark.timeout(400)
def test_the_page_labels_two_people_on_the_camera(checkpoint: Path, tmp_path: Path) -> None:
    camera = make_y4m(tmp_path / "two-people.y4m", 30)
    args = ["--checkpoint", str(checkpoint), "--explain", "--window", "4", "--stride", "2"]
    with running_server(tmp_path, *args) as server:
        page = httpx.get(f"{server.url}/")
        assert page.status_code == 200 and "/v1/stream" in page.text
        assert "http://" not in page.text and "https://" not in page.text  # nothing outside
        browser = chromium(camera, tmp_path)
        try:
            browser.get(f"{server.url}/")
            deadline = time.monotonic() + LABELS_SECONDS
            tracks: dict[str, str] = {}
            while time.monotonic() < deadline:
                tracks = page_tracks(browser)
                if len(tracks) >= 2 and all(tracks.values()):
                    break
                time.sleep(0.5)
            time.sleep(1)  # one more answer drawn: the screenshot shows skeletons
            figures = {name: browser.find_element("id", name).text
                       for name in ("state", "fps", "sent", "dropped", "track-count")}  # fmt: skip
            status = browser.find_element("id", "status").text
            screenshot = tmp_path / "page.png"
            browser.save_screenshot(str(screenshot))
            console = browser.get_log("browser") if hasattr(browser, "get_log") else []
        finally:
            browser.quit()
        metrics = httpx.get(f"{server.url}/metrics").text
    print(f"\nstgcn serve page screenshot: {screenshot}; figures {figures}; tracks {tracks}")
    artefacts = os.environ.get("STGCN_SERVE_ARTEFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(artefacts) / "page.png")
    assert len(tracks) >= 2 and all(tracks.values()), (tracks, figures, status, console)
    # each label is a class name of the synthetic set and its probability
    for label in tracks.values():
        name, probability = label.rsplit(" ", 1)
        assert name and 0 < float(probability) <= 1, label
    assert figures["state"] == "streaming" and float(figures["fps"]) > 0, figures
    assert int(figures["sent"]) > 0 and int(figures["dropped"]) >= 0
    assert screenshot.stat().st_size > 10_000
    assert "stgcn_serve_frames_processed_total" in metrics
    assert "Traceback" not in server.log.read_text()
