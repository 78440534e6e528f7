"""The REST API at /api/v1 (README "API"): curl-like calls against the real running server.

Every route answers JSON with the CLI's shapes, every error is `{"error": ...}` with its status,
the schema is valid OpenAPI 3 and its docs page loads nothing from outside; another origin's
page in Chromium cannot add or remove documents through it.
"""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import _watched_page, foreign_origin, running_upload_app

from assistant.apps.output import document_json, reply_json, source_json

GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]
SOURCE = "healthcare-in-cambridgeshire.txt"
QUESTION = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
REPLIES = "#transcript .msg.bot:not(:has(.pending))"
NEW_FACT = "The Harbourside depot keeps forty-two grit bins for the winter."


@pytest.fixture(scope="module")
def api_server(seed_index_dir, embedder, tmp_path_factory):
    """The app with Add documents on (no user defined: sign-in off), production launch options."""
    with running_upload_app(seed_index_dir, embedder, tmp_path_factory.mktemp("api")) as served:
        yield served


@pytest.fixture
def api(api_server):
    with httpx.Client(base_url=f"http://127.0.0.1:{api_server[1]}/api/v1", timeout=120, trust_env=False) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> str:
    """The one-line message of a JSON error reply with this status."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    assert isinstance(message, str) and message and "\n" not in message and "Traceback" not in message
    return message


def wait_for_sources(api, present: str | None = None, absent: str | None = None) -> list[str]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        names = [s["source"] for s in api.get("/sources").json()]
        if (present is None or present in names) and (absent is None or absent not in names):
            return names
        time.sleep(0.5)
    raise AssertionError(f"sources never settled: {present=} {absent=}")


@pytest.mark.slow
def test_ask_answers_with_the_reply_of_ask_json(api, bot):
    response = api.post("/ask", json={"question": QUESTION, "history": [], "k": 3})
    assert response.status_code == 200, response.text
    expected = reply_json(bot.ask(QUESTION, k=3))
    got = response.json()
    assert list(got) == list(expected)
    assert got["answer"] == expected["answer"] and got["confident"] == expected["confident"]
    assert [p["chunk_id"] for p in got["passages"]] == [p["chunk_id"] for p in expected["passages"]]


@pytest.mark.slow
def test_every_bad_request_is_a_json_error_with_its_status(api, api_server):
    assert "question" in error_of(api.post("/ask", json={}), 400)
    assert error_of(api.post("/ask", json={"question": "x", "k": 0}), 400)
    assert error_of(api.post("/ask", json={"question": "x", "history": "not a list"}), 400)
    assert "extra" in error_of(api.post("/ask", json={"question": "x", "more": 1}), 400).lower()
    assert error_of(api.post("/ask", content=b"{not json", headers={"content-type": "application/json"}), 400)
    assert "too large" in error_of(api.post("/ask", json={"question": "x" * 300_000}), 413)
    assert error_of(api.get("/documents/no-such-file.txt"), 404)
    assert error_of(api.get("/documents/..%2f..%2fetc%2fpasswd"), 404)
    assert error_of(api.get("/documents/%2e%2e%2fetc%2fpasswd/original"), 404)
    assert error_of(api.get("/no-such-route"), 404)
    assert error_of(api.delete("/documents/no-such-file.txt"), 404)
    assert error_of(api.post("/documents", files={"files": ("a.exe", b"MZ", "application/octet-stream")}), 400)
    big = b"x" * (21 * 1024 * 1024)
    assert "too large" in error_of(api.post("/documents", files={"files": ("big.txt", big, "text/plain")}), 413)
    assert error_of(api.post("/documents", data={"collection": "../etc"},
                             files={"files": ("a.txt", b"words", "text/plain")}), 400)
    foreign = {"Origin": "http://evil.example"}
    assert error_of(api.post("/documents", files={"files": ("a.txt", b"words", "text/plain")}, headers=foreign), 403)
    assert error_of(api.delete(f"/documents/{SOURCE}", headers=foreign), 403)
    elsewhere = {"Referer": "http://evil.example/page.html"}  # no Origin: the Referer decides
    assert error_of(api.post("/documents", files={"files": ("a.txt", b"words", "text/plain")}, headers=elsewhere), 403)
    assert SOURCE in {p.name for p in api_server[2].iterdir()}


@pytest.mark.slow
def test_sources_documents_and_originals_are_the_clis(api, bot, api_server):
    assert api.get("/sources").json() == [source_json(s) for s in bot.sources()]
    document = api.get(f"/documents/{SOURCE}")
    assert document.status_code == 200 and document.json() == document_json(bot.document(SOURCE))
    original = api.get(f"/documents/{SOURCE}/original")
    assert original.status_code == 200 and original.content == (api_server[2] / SOURCE).read_bytes()
    assert original.headers["content-disposition"].startswith("attachment")


@pytest.mark.slow
def test_upload_into_a_collection_then_ask_and_delete(api, api_server):
    response = api.post("/documents", data={"collection": "depots"},
                        files={"files": ("../grit bins.txt", NEW_FACT.encode(), "text/plain")})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == ["depots/grit-bins.txt"] and response.json()["collection"] == "depots"
    assert (api_server[2] / "depots" / "grit-bins.txt").read_text() == NEW_FACT
    wait_for_sources(api, present="depots/grit-bins.txt")
    reply = api.post("/ask", json={"question": "How many grit bins does the Harbourside depot keep?"}).json()
    assert reply["passages"][0]["source"] == "depots/grit-bins.txt"
    removed = api.delete("/documents/depots/grit-bins.txt")
    assert removed.status_code == 200 and removed.json()["removed"] == "depots/grit-bins.txt"
    assert not (api_server[2] / "depots" / "grit-bins.txt").exists()
    wait_for_sources(api, absent="depots/grit-bins.txt")


@pytest.mark.slow
def test_the_schema_is_valid_openapi_and_its_docs_page_works_offline(api, browser, api_server):
    from openapi_spec_validator import validate

    schema = api.get("/openapi.json").json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/ask", "/sources", "/documents", "/documents/{source}", "/documents/{source}/original"} <= set(schema["paths"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    with _watched_page(browser, 1000, 800) as page:  # fails the test if the page fetched anything from outside
        page.goto(f"http://127.0.0.1:{api_server[1]}/api/v1/docs")
        page.wait_for_selector("section.op")
        assert "/api/v1/ask" in page.inner_text("#routes")


FOREIGN_PAGE = """<!doctype html><title>elsewhere</title><script>
async function attack(base, source) {
  const out = {};
  const form = new FormData();
  form.append("files", new Blob(["planted words"], {type: "text/plain"}), "planted.txt");
  try { const r = await fetch(base + "api/v1/documents", {method: "POST", body: form}); out.upload = `${r.status}`; }
  catch (e) { out.upload = `failed: ${e}`; }
  try { const r = await fetch(base + "api/v1/documents/" + source, {method: "DELETE"}); out.remove = `${r.status}`; }
  catch (e) { out.remove = `failed: ${e}`; }
  try { await fetch(base + "api/v1/documents", {method: "POST", body: form, mode: "no-cors"}); out.blind = "sent"; }
  catch (e) { out.blind = `failed: ${e}`; }
  return out;
}
</script>"""


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory):
    """A page on another port of 127.0.0.1: the same machine, another origin."""
    with foreign_origin(tmp_path_factory.mktemp("foreign-api"), FOREIGN_PAGE) as url:
        yield url


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_on_another_origin_cannot_upload_or_delete_through_the_api(browser, api_server, foreign_site):
    corpus = api_server[2]
    before = sorted(p.name for p in corpus.rglob("*") if ".removed" not in p.parts)
    with _watched_page(browser, 800, 600) as page:
        page.goto(foreign_site)
        out = page.evaluate("([base, source]) => attack(base, source)", [f"http://127.0.0.1:{api_server[1]}/", SOURCE])
    assert out["upload"].startswith("failed: TypeError") and out["remove"].startswith("failed: TypeError"), out
    time.sleep(1)
    assert sorted(p.name for p in corpus.rglob("*") if ".removed" not in p.parts) == before


# ---------------------------------------------------------------- with users defined: sign-in on every route

ALICE_PASSWORD = "alice-password-1"


BOB_PASSWORD = "bob-password-1"
HR_SOURCE = "hr/leave-policy.txt"
HR_FACT = "Every member of staff at Quillfield has thirty-one days of annual leave."


def add_hr_collection(corpus) -> None:
    (corpus / "hr").mkdir()
    (corpus / HR_SOURCE).write_text(f"Leave policy\n\n{HR_FACT}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def team_server(seed_index_dir, embedder, tmp_path_factory):
    """The app over an index with a collection `hr` beside the root's `shared`, and three users (alice:
    `shared`; bob: `hr`; root: admin): sign-in is on. Yields (port, store, corpus)."""
    stores = []

    def users(store) -> None:
        store.add("alice", ("shared",), password=ALICE_PASSWORD)
        store.add("bob", ("hr",), password=BOB_PASSWORD)
        store.add("root", (), admin=True, password="root-password-1")
        stores.append(store)

    with running_upload_app(seed_index_dir, embedder, tmp_path_factory.mktemp("team"), users=users,
                            prepare=add_hr_collection) as served:
        yield served[1], stores[0], served[2]


@pytest.fixture
def team(team_server):
    with httpx.Client(base_url=f"http://127.0.0.1:{team_server[0]}", timeout=120, trust_env=False) as client:
        yield client


@pytest.mark.slow
def test_with_users_every_route_needs_a_token_or_a_session(team):
    for method, path in [("GET", "/api/v1/sources"), ("POST", "/api/v1/ask"), ("GET", "/api/v1/openapi.json"),
                         ("GET", f"/api/v1/documents/{SOURCE}/original"), ("DELETE", f"/api/v1/documents/{SOURCE}"),
                         ("POST", "/api/v1/documents"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/call/ask"),
                         ("GET", f"/original?source={SOURCE}"), ("POST", "/gradio_api/upload"), ("GET", "/config")]:
        response = team.request(method, path, json={"question": QUESTION} if method == "POST" else None)
        assert "sign in" in error_of(response, 401), path
        assert response.headers["www-authenticate"].startswith("Bearer")
    page = team.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=%2F"
    assert 'action="signin"' in team.get("/signin").text
    assert "not valid" in error_of(team.get("/api/v1/sources", headers={"Authorization": "Bearer nope"}), 401)


@pytest.mark.slow
def test_a_token_answers_until_it_is_revoked_or_its_user_removed(team, team_server):
    store = team_server[1]
    token = store.create_token("alice")
    bearer = {"Authorization": f"Bearer {token}"}
    assert team.get("/api/v1/sources", headers=bearer).status_code == 200
    assert team.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer).json()["passages"]
    store.revoke_token(token)  # what `assistant tokens revoke` does
    assert "not valid" in error_of(team.get("/api/v1/sources", headers=bearer), 401)
    store.add("carol", ("shared",))
    carol = {"Authorization": f"Bearer {store.create_token('carol')}"}
    assert team.get("/api/v1/sources", headers=carol).status_code == 200
    store.remove("carol")
    assert error_of(team.get("/api/v1/sources", headers=carol), 401)


@pytest.mark.slow
def test_sign_in_and_uploads_from_another_origin_are_refused(team, team_server):
    foreign = {"Origin": "http://evil.example"}
    response = team.post("/signin", data={"name": "alice", "password": ALICE_PASSWORD}, headers=foreign)
    assert response.status_code == 403 and "assistant_session" not in response.headers.get("set-cookie", "")
    bearer = {"Authorization": f"Bearer {team_server[1].create_token('root')}", **foreign}
    assert error_of(team.delete(f"/api/v1/documents/{SOURCE}", headers=bearer), 403)


@pytest.mark.slow
@pytest.mark.browser
def test_sign_in_and_out_in_the_browser(browser, team_server):
    base = f"http://127.0.0.1:{team_server[0]}/"
    with _watched_page(browser, 1200, 800) as page:
        page.goto(base)
        assert "/signin" in page.url
        page.fill("#name", "alice")
        page.fill("#password", "wrong-password")
        page.click("#sign-in")
        assert "Wrong name or password" in page.inner_text("body")
        page.fill("#name", "alice")
        page.fill("#password", ALICE_PASSWORD)
        page.click("#sign-in")
        page.wait_for_selector("textarea")
        page.wait_for_function(f"document.querySelector('#sources')?.innerText.includes({SOURCE!r})")
        cookie = next(c for c in page.context.cookies() if c["name"] == "assistant_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # no script reads the session
        page.click("#sign-out")
        page.wait_for_selector("#sign-in")
        assert "/signin" in page.url
        page.goto(base)  # the old cookie, if the browser kept it, names no session any more
        assert "/signin" in page.url
        assert page.request.get(base + "api/v1/sources").status == 401


def sign_in(page, base: str, name: str, password: str) -> None:
    page.goto(base)
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_selector("textarea")


@pytest.mark.slow
@pytest.mark.browser
def test_uploads_and_removals_stay_in_the_granted_collections(team, team_server, browser, tmp_path):
    port, store, corpus = team_server
    bob = {"Authorization": f"Bearer {store.create_token('bob')}"}
    alice = {"Authorization": f"Bearer {store.create_token('alice')}"}
    note = {"files": ("rota.txt", b"The Quillfield rota changes on Mondays.", "text/plain")}
    assert "may not add" in error_of(team.post("/api/v1/documents", data={"collection": "shared"}, files=note,
                                               headers=bob), 403)
    added = team.post("/api/v1/documents", data={"collection": "hr"}, files=note, headers=bob)
    assert added.status_code == 200 and added.json()["added"] == ["hr/rota.txt"]
    assert error_of(team.delete(f"/api/v1/documents/{HR_SOURCE}", headers=alice), 404)
    assert error_of(team.delete(f"/api/v1/documents/{SOURCE}", headers=bob), 404)
    assert (corpus / HR_SOURCE).exists() and (corpus / SOURCE).exists()

    upload = tmp_path / "handbook.txt"
    upload.write_text("The Quillfield handbook is reviewed every spring.", encoding="utf-8")
    with _watched_page(browser, 1400, 900) as page:  # the page's Add documents puts bob's file in `hr`
        sign_in(page, f"http://127.0.0.1:{port}/", "bob", BOB_PASSWORD)
        page.locator("input[type=file]").set_input_files(str(upload))
        page.wait_for_function("document.querySelector('#upload-status')?.innerText.includes('handbook')")
    assert (corpus / "hr" / "handbook.txt").exists() and not (corpus / "handbook.txt").exists()
    # The status names the file once it is saved; the index run after it may still be going. Later tests
    # list bob's sources and then ask, so the run must be over, or a file indexed in between looks leaked.
    deadline = time.monotonic() + 180
    while "hr/handbook.txt" not in {s["source"] for s in team.get("/api/v1/sources", headers=bob).json()}:
        assert time.monotonic() < deadline, "hr/handbook.txt was never indexed"
        time.sleep(0.5)


@pytest.mark.slow
def test_two_users_see_nothing_of_each_others_collections_through_the_api(team, team_server):
    store = team_server[1]
    alice = {"Authorization": f"Bearer {store.create_token('alice')}"}
    bob = {"Authorization": f"Bearer {store.create_token('bob')}"}
    root = {"Authorization": f"Bearer {store.create_token('root')}"}
    alice_sources = {s["source"] for s in team.get("/api/v1/sources", headers=alice).json()}
    bob_sources = {s["source"] for s in team.get("/api/v1/sources", headers=bob).json()}
    assert SOURCE in alice_sources and not any(s.startswith("hr/") for s in alice_sources)
    assert bob_sources and all(s.startswith("hr/") for s in bob_sources) and HR_SOURCE in bob_sources
    assert alice_sources | bob_sources <= {s["source"] for s in team.get("/api/v1/sources", headers=root).json()}

    leave = "How many days of annual leave does Quillfield staff get?"
    for headers, mine in ((alice, alice_sources), (bob, bob_sources)):
        for question in (leave, QUESTION):
            reply = team.post("/api/v1/ask", json={"question": question, "k": 10}, headers=headers).json()
            cited = {p["source"] for p in reply["passages"]} | {reply["answer_source"]} - {None}
            assert cited <= mine, (question, cited - mine)
            if headers is bob and question == QUESTION:
                assert "Orion" not in reply["answer"] + "".join(p["text"] for p in reply["passages"])
    assert "thirty-one" in team.post("/api/v1/ask", json={"question": leave}, headers=bob).json()["answer"]

    for headers, other in ((alice, HR_SOURCE), (bob, SOURCE)):
        for path in (f"/api/v1/documents/{other}", f"/api/v1/documents/{other}/original", f"/original?source={other}"):
            response = team.get(path, headers=headers)
            assert response.status_code == 404, path
            assert other.rsplit("/", 1)[-1] not in response.text.replace(other, ""), response.text  # no hint
    hint = team.get("/api/v1/documents/leave-policy.txt", headers=alice)  # a bare name: no "did you mean hr/..."
    assert "hr/" not in error_of(hint, 404)
    config = team.get("/config", headers=bob).text  # the page's initial values name no document
    assert "healthcare-in-cambridgeshire" not in config and "Orion" not in config
    gradio = team.post("/gradio_api/call/ask", json={"data": [QUESTION, [], 5]}, headers=bob)
    assert gradio.status_code == 200
    events = team.get(f"/gradio_api/call/ask/{gradio.json()['event_id']}", headers=bob).text
    assert "Orion" not in events and "healthcare-in-cambridgeshire" not in events


@pytest.mark.slow
@pytest.mark.browser
def test_two_users_see_nothing_of_each_others_collections_in_the_browser(browser, team_server):
    base = f"http://127.0.0.1:{team_server[0]}/"
    with _watched_page(browser, 1400, 900) as page:
        sign_in(page, base, "bob", BOB_PASSWORD)
        page.wait_for_function(f"document.querySelector('#sources')?.innerText.includes({HR_SOURCE!r})")
        assert SOURCE not in page.inner_text("#sources")
        assert "Orion" not in page.content() and "Cambridgeshire" not in page.inner_text("#examples")
        page.fill("textarea", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(REPLIES)
        assert "Orion" not in page.inner_text("#transcript")
        page.goto(f"{base}?source={SOURCE}")  # a shared link to alice's document
        page.wait_for_selector("textarea")
        page.wait_for_function("document.querySelector('#viewer')?.innerText.includes('not one of the indexed')")
        assert "Orion" not in page.inner_text("#viewer")
        assert page.request.get(f"{base}original?source={SOURCE}").status == 404
    with _watched_page(browser, 1400, 900) as page:
        sign_in(page, base, "alice", ALICE_PASSWORD)
        page.wait_for_function(f"document.querySelector('#sources')?.innerText.includes({SOURCE!r})")
        assert "hr/" not in page.inner_text("#sources") and "Quillfield" not in page.content()
        page.fill("textarea", "How many days of annual leave does Quillfield staff get?")
        page.keyboard.press("Enter")
        page.wait_for_selector(REPLIES)
        assert "thirty-one" not in page.inner_text("#transcript") and "hr/" not in page.inner_text("#transcript")


@pytest.mark.slow
def test_sign_in_attempts_are_limited_per_client(team):
    """Last in this module: it uses up 127.0.0.1's sign-in attempts for a minute."""
    statuses = [team.post("/signin", data={"name": "alice", "password": "guess"}).status_code for _ in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429
    refused = team.post("/signin", data={"name": "alice", "password": ALICE_PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
