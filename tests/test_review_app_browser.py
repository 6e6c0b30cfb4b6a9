"""The review app in a real headless Chromium over a session the pipeline made.

One session (the three-voice ``conversation``, tiny.en) is built once for the module and
served by the real server on 127.0.0.1; saves go through the stages, which read the
review files themselves (pipeline/corrections.py).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import pytest
import yaml

from pipeline import corrections as layers

pytestmark = pytest.mark.slow

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.conftest import ROOT, stage, write_config  # noqa: E402

SID = "fg-review"


@pytest.fixture(scope="module")
def built(tmp_path_factory, models_dir, conversation):
    """The conversation through ingest, ASR, diarization, speakers and de-identification."""
    from pipeline.config import load_settings
    from pipeline.manifest import load_manifest
    from pipeline.stages import open_session

    folder = tmp_path_factory.mktemp("review")
    cfg = load_settings(write_config(folder, models_dir))
    manifest = {
        "session_id": SID,
        "kind": "member_focus_group",
        "expected_speakers": 3,
        "people": [
            {"id": "RV-F01", "name": "Dana Whitfield", "role": "facilitator"},
            {"id": "RV-M01", "name": "Rosa Delgado", "role": "member"},
            {"id": "RV-M02", "name": "Tom Becker", "role": "member"},
        ],
        "places": ["Riverside Diner"],
    }
    (folder / "m.yaml").write_text(yaml.safe_dump(manifest))
    m = load_manifest(folder / "m.yaml")
    session = open_session(cfg, SID)
    stage("ingest", session, cfg, src=conversation[0])
    for name in ("asr", "diarize", "roles", "deid"):
        stage(name, session, cfg, m)
    return cfg, m, session, folder


@pytest.fixture(scope="module")
def server(built):
    import uvicorn

    from review.server import bind, create_app, hosts_for, new_token
    from review.store import Review

    cfg, m, session, folder = built
    review = Review(cfg, {SID: m}, folder / "out")
    sock = bind(0)
    port = sock.getsockname()[1]
    token = new_token()
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(review, token, hosts_for(port)), log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token, session
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail(
            "chromium and chromium-driver are missing: apt-get install -y chromium chromium-driver"
        )
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        "--window-size=1280,800",
    ):
        opts.add_argument(arg)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait(driver, cond, timeout=120):
    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    ).until(lambda d: cond(d))


def open_page(driver, url, token):
    driver.get(f"{url}/?token={token}")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript .w"), 60)


def saved(driver, before):
    """Wait until a save came back (a new version) with no error."""
    wait(
        driver,
        lambda d: (
            d.execute_script("return document.body.dataset.version") != before
            or d.execute_script("return document.body.dataset.lastError")
        ),
    )
    assert not driver.execute_script("return document.body.dataset.lastError")
    wait(driver, lambda d: not d.find_element(By.ID, "busy").is_displayed())


def version(driver):
    return driver.execute_script("return document.body.dataset.version")


def turn_words(driver, index):
    turn = driver.find_elements(By.CSS_SELECTOR, "#transcript .turn")[index]
    return turn, turn.find_elements(By.CSS_SELECTOR, ".w")


def test_without_the_token_the_page_shows_nothing(server, browser):
    url, _token, _s = server
    browser.delete_all_cookies()
    browser.get(f"{url}/")
    assert "403" in browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.CSS_SELECTOR, ".w")
    browser.get(f"{url}/?token=wrong")
    assert not browser.find_elements(By.CSS_SELECTOR, ".w")


def test_play_highlights_words_click_seeks_and_shortcuts(server, browser, tmp_path):
    url, token, _s = server
    open_page(browser, url, token)
    wait(
        browser,
        lambda d: d.execute_script("return document.getElementById('audio').readyState") >= 1,
        30,
    )
    # The README's picture is refreshed only on request (QSCRIBE_REVIEW_SCREENSHOT=1).
    shot = tmp_path / "review.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("QSCRIBE_REVIEW_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "review.png")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SPACE)  # play
    wait(
        browser,
        lambda d: d.execute_script("return document.getElementById('audio').currentTime") > 1.5,
        30,
    )
    first = browser.find_element(By.CSS_SELECTOR, ".w.current").get_attribute("data-start")
    wait(
        browser,
        lambda d: d.execute_script("return document.getElementById('audio').currentTime") > 4.0,
        30,
    )
    later = browser.find_element(By.CSS_SELECTOR, ".w.current").get_attribute("data-start")
    assert float(later) > float(first)
    body.send_keys(Keys.SPACE)  # pause
    assert browser.execute_script("return document.getElementById('audio').paused")
    _turn, words = turn_words(browser, 2)
    target = words[1]
    target.click()
    t = browser.execute_script("return document.getElementById('audio').currentTime")
    assert abs(t - float(target.get_attribute("data-start"))) < 0.05
    assert "current" in target.get_attribute("class")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    back = browser.execute_script("return document.getElementById('audio').currentTime")
    assert abs(back - max(0.0, t - 5)) < 0.05
    # The who-spoke-when picture is drawn (pixels in the canvas).
    assert browser.execute_script(
        "var c=document.getElementById('timeline');return c.getContext('2d').getImageData(0,0,c.width,c.height).data.some(function(x){return x>0})"
    )


def test_rename_voice_changes_labels(server, browser):
    url, token, session = server
    open_page(browser, url, token)
    voice = browser.find_elements(By.CSS_SELECTOR, "#voices .voice")[1]
    vid = voice.get_attribute("data-voice")
    old = voice.find_element(By.CSS_SELECTOR, ".voice-label").text
    other = "RV-M02" if old == "MEMBER-1" else "RV-M01"
    Select(voice.find_element(By.CSS_SELECTOR, ".voice-person")).select_by_value(other)
    before = version(browser)
    voice.find_element(By.CSS_SELECTOR, ".voice-save").click()
    saved(browser, before)
    voice = browser.find_element(By.CSS_SELECTOR, f'#voices .voice[data-voice="{vid}"]')
    new = voice.find_element(By.CSS_SELECTOR, ".voice-label").text
    assert new != old and new.startswith("MEMBER-")
    labels = [
        t.text
        for t in browser.find_elements(By.CSS_SELECTOR, f'.turn[data-speaker="{vid}"] .label')
    ]
    assert labels and set(labels) == {new}
    answers = yaml.safe_load((session.root / layers.SPEAKER_ANSWERS).read_text().split("\n", 2)[-1])
    assert {"voice": vid, "role": None, "person": other} in [
        {k: e.get(k) for k in ("voice", "role", "person")} for e in answers["voices"]
    ]


def test_text_correction_is_kept_as_an_edit_layer(server, browser):
    url, token, session = server
    open_page(browser, url, token)
    _turn, words = turn_words(browser, 3)
    target = next(w for w in words if "red" not in w.get_attribute("class"))
    start = target.get_attribute("data-start")
    target.click()
    box = browser.find_element(By.ID, "fix-text")
    box.clear()
    box.send_keys("zebra")
    before = version(browser)
    browser.find_element(By.ID, "fix-save").click()
    saved(browser, before)
    word = browser.find_element(By.CSS_SELECTOR, f'#transcript .w[data-start="{start}"]')
    assert word.text == "zebra"
    edits = json.loads((session.root / layers.TEXT_EDITS).read_text())["edits"]
    assert edits[-1]["text"] == "zebra"
    assert "zebra" in (session.root / "05_deid" / "transcript.txt").read_text()


def test_missed_name_is_redacted_after_the_rerun(server, browser):
    url, token, session = server
    open_page(browser, url, token)
    _turn, words = turn_words(browser, 4)
    target = next(
        w for w in words if "red" not in w.get_attribute("class") and len(w.text.strip(".,?!")) > 3
    )
    name = target.text.strip(".,?!")
    start = target.get_attribute("data-start")
    target.click()
    Select(browser.find_element(By.ID, "missed-kind")).select_by_value("place")
    before = version(browser)
    browser.find_element(By.ID, "missed-save").click()
    saved(browser, before)
    word = browser.find_element(By.CSS_SELECTOR, f'#transcript .w[data-start="{start}"]')
    assert "red" in word.get_attribute("class") and "[PLACE-" in word.get_attribute("title")
    text = (session.root / "05_deid" / "transcript.txt").read_text()
    assert name.lower() not in text.lower() and "[PLACE-" in text
    browser.find_element(By.ID, "deid-view").click()
    shown = browser.find_element(By.ID, "transcript").text
    assert "[PLACE-" in shown and name not in shown
    for person in ("Dana", "Rosa", "Whitfield", "Delgado"):
        assert person not in shown


def test_false_positive_is_allowed_then_undone(server, browser):
    url, token, session = server
    open_page(browser, url, token)
    phone = browser.find_elements(
        By.CSS_SELECTOR, '#transcript .w.red[title="replaced by [PHONE]"]'
    )
    assert phone, "the phone number was not redacted"
    phone[0].click()
    assert "[PHONE]" in browser.find_element(By.ID, "word-info").text
    before = version(browser)
    browser.find_element(By.ID, "allow-save").click()
    wait(browser, lambda d: version(d) != before)
    wait(browser, lambda d: not d.find_element(By.ID, "busy").is_displayed())
    rules = json.loads((session.root / layers.DEID_RULES).read_text())
    assert len(rules["allow"]) == 1
    assert "[PHONE]" not in (session.root / "05_deid" / "transcript.txt").read_text()
    assert not browser.find_elements(
        By.CSS_SELECTOR, '#transcript .w.red[title="replaced by [PHONE]"]'
    )
    undo = browser.find_element(By.CSS_SELECTOR, "#rules li:last-child button")
    before = version(browser)
    undo.click()
    saved(browser, before)
    assert "[PHONE]" in (session.root / "05_deid" / "transcript.txt").read_text()


def test_accept_a_code_and_find_it_in_the_codings(server, browser):
    url, token, session = server
    deid = json.loads((session.root / "05_deid" / "transcript.json").read_text())
    seg = deid["segments"][-1]["id"]
    from pipeline.coding.refi import turn_texts
    from pipeline.transcript import Transcript

    last = turn_texts(Transcript.load(session.root / "05_deid" / "transcript.json"))[-1]
    (session.root / "06_codes").mkdir(mode=0o700, exist_ok=True)
    (session.root / layers.SUGGESTIONS).write_text(
        json.dumps(
            [
                {
                    "session_id": SID,
                    "segment_id": last.segment_id,
                    "code": "DIM.closeness",
                    "score": 0.71,
                    "evidence": "friends",
                    "method": "lexicon",
                }
            ]
        )
    )
    assert seg is not None
    open_page(browser, url, token)
    chip = wait(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, '.code[data-code="DIM.closeness"]')
    )[0]
    assert chip.get_attribute("data-state") == "suggested"
    before = version(browser)
    chip.find_element(By.CSS_SELECTOR, ".code-accept").click()
    wait(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, '.code[data-code="DIM.closeness"]').get_attribute(
                "data-state"
            )
            == "accepted"
        ),
    )
    assert version(browser) != before
    codings = [json.loads(x) for x in (session.root / layers.CODINGS).read_text().splitlines()]
    assert codings == [
        {
            "session_id": SID,
            "segment_id": last.segment_id,
            "text": last.text,
            "codes": ["DIM.closeness"],
        }
    ]


def test_export_html_passes_the_gate_and_opens_without_the_server(server, browser, built):
    url, token, session = server
    open_page(browser, url, token)
    browser.find_element(By.ID, "export").click()
    _cfg, m, _s, folder = built
    target = folder / "out" / SID / "transcript.review.html"
    wait(browser, lambda d: target.is_file(), 60)
    from pipeline.deid.gate import scan_files

    assert (
        scan_files([target], layers.session_roster(m, layers.read_deid_rules(session.root))) == []
    )
    browser.get(target.as_uri())
    assert len(browser.find_elements(By.CSS_SELECTOR, ".w")) > 20
    assert "[MEMBER-" in browser.find_element(By.TAG_NAME, "main").text


def test_move_words_then_merge_voices(server, browser):
    url, token, session = server
    open_page(browser, url, token)
    turns = browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")
    last = turns[-1]
    speaker = last.get_attribute("data-speaker")
    words = last.find_elements(By.CSS_SELECTOR, ".w")
    words[2].click()
    mover = Select(browser.find_element(By.ID, "move-voice"))
    target = mover.options[0].get_attribute("value")
    mover.select_by_value(target)
    before = version(browser)
    browser.find_element(By.ID, "move-rest").click()
    saved(browser, before)
    last_two = browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")[-2:]
    assert [t.get_attribute("data-speaker") for t in last_two] == [speaker, target]
    edits = json.loads((session.root / layers.SPEAKER_EDITS).read_text())
    assert edits["moves"][-1]["voice"] == target
    # Merge that voice into another: it disappears from the speakers and the picture.
    voice = browser.find_element(By.CSS_SELECTOR, f'#voices .voice[data-voice="{target}"]')
    merge = Select(voice.find_element(By.CSS_SELECTOR, ".voice-merge"))
    into = merge.options[1].get_attribute("value")
    before = version(browser)
    merge.select_by_value(into)
    saved(browser, before)
    voices = [
        v.get_attribute("data-voice")
        for v in browser.find_elements(By.CSS_SELECTOR, "#voices .voice")
    ]
    assert target not in voices and into in voices
    speakers = {
        t.get_attribute("data-speaker") for t in browser.find_elements(By.CSS_SELECTOR, ".turn")
    }
    assert target not in speakers
