import flask.app

from infra.runtime.flask_app import WsgiFlask


def test_each_hook_and_view_is_checked_for_async_once_not_per_request(monkeypatch):
    checked = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda func: checked.append(func) or real(func))
    app = WsgiFlask(__name__)
    app.before_request(lambda: None)
    app.after_request(lambda response: response)
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()
    answers = [client.get("/").text for _ in range(3)]
    assert answers == ["ok"] * 3
    assert len(checked) == len(set(checked)) == 3  # the hook, the view and the after hook, once each
