"""What a visitor sees when a page's script fails unexpectedly: a plain sentence, never the
traceback with the server's paths — which only the server's log keeps."""

import sqlite3

from support import SmsProcess, environment, free_ports

from sms_core.config import PROJECT_ROOT
from sms_core.demo.seed import seed_demo
from sms_core.storage.database import Database


def test_a_failing_page_shows_no_traceback_and_the_log_keeps_it(sqlite_url, tmp_path, page):
    seed_demo(Database(sqlite_url), messages=20)
    port = free_ports()[0]
    env = environment(DATABASE_URL=sqlite_url, SMS_EMBEDDED_WORKER="false", SMS_DEMO_MODE="true")
    app = SmsProcess(
        ["serve", "--port", str(port), "--address", "127.0.0.1"],
        env,
        tmp_path / "app.log",
        f"http://127.0.0.1:{port}/_stcore/health",
    )
    try:
        page.goto(f"http://127.0.0.1:{port}/sms-messages")
        page.get_by_role("heading", name="SMS messages").first.wait_for()
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as broken:  # a value no page expects
            broken.execute("UPDATE sms_messages SET status = 99")
        page.reload()
        page.get_by_test_id("stException").first.wait_for()
        shown = page.locator("body").inner_text()
        assert "Traceback" not in shown and "ValueError" not in shown and "99" not in shown
        assert str(PROJECT_ROOT) not in shown and ".py" not in shown
        assert "This app has encountered an error" in shown  # Streamlit's plain sentence instead
        assert app.wait_for_line("ValueError") is not None  # the details are in the log
        assert "Traceback" in app.log() and str(PROJECT_ROOT) in app.log()
    finally:
        app.stop()
