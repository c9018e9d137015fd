"""A test client that sends a role's bearer token."""


class RoleClient:
    """Wraps Flask's test client; `as_` names a token of the world (None: no token)."""

    def __init__(self, client, tokens: dict[str, str]):
        self.client = client
        self.tokens = tokens

    def _headers(self, as_: str | None, headers: dict | None) -> dict:
        result = dict(headers or {})
        if as_ is not None:
            result["Authorization"] = f"Bearer {self.tokens[as_]}"
        return result

    def get(self, path, as_=None, **kwargs):
        return self.client.get(path, headers=self._headers(as_, kwargs.pop("headers", None)), **kwargs)

    def post(self, path, as_=None, **kwargs):
        return self.client.post(path, headers=self._headers(as_, kwargs.pop("headers", None)), **kwargs)

    def patch(self, path, as_=None, **kwargs):
        return self.client.patch(path, headers=self._headers(as_, kwargs.pop("headers", None)), **kwargs)

    def delete(self, path, as_=None, **kwargs):
        return self.client.delete(path, headers=self._headers(as_, kwargs.pop("headers", None)), **kwargs)
