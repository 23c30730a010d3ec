"""flask-smorest's decorators that only document an operation leave its view as it is: a wrapper
that does nothing but call the view costs every request (9 of them per POST /v1/transactions)."""

from gateway_api.web.blueprint import Blueprint


def view():
    return "answer"


def test_alt_response_and_doc_return_the_view_itself_carrying_its_documentation():
    blp = Blueprint("things", __name__)
    documented = blp.alt_response(404, description="No such thing")(blp.doc(summary="A thing")(view))
    assert documented is view
    assert view._apidoc["response"]["responses"][404][0]["description"] == "No such thing"
    assert view._apidoc["manual_doc"]["summary"] == "A thing"
