"""platform_layer.middleware: the API token, and the node that answered."""


def test_the_api_refuses_callers_without_the_token(client):
    response = client.get("/api/v1/stories", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401


def test_probes_need_no_token_and_name_the_node(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["X-Served-By"] == settings.NODE_NAME
