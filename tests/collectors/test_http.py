"""The shared HTTP layer on its own: encodings, rate limit, Retry-After parsing, config from env."""

from __future__ import annotations

import time

import pytest
from pytest_httpserver import HTTPServer

from collectors.http import HostLimiter, HttpClient, HttpOptions, _retry_after, decode_body, detect_encoding
from collectors.options import HttpSourceOptions, parse_source
from koubei.errors import ConfigError

REVIEW = "這款耳機的電池續航很差，客服態度也不好，退貨流程太麻煩了。"
SIMPLIFIED = "这款耳机的电池续航很差，客服态度也不好，退货流程太麻烦了。"


@pytest.mark.parametrize(
    ("text", "encoding"), [(SIMPLIFIED, "gbk"), (SIMPLIFIED, "gb18030"), (REVIEW, "big5"), (REVIEW, "utf-8")]
)
def test_bodies_decode_without_a_charset_header(text: str, encoding: str) -> None:
    body = f'{{"content": "{text}"}}'.encode(encoding)
    assert decode_body(body) == f'{{"content": "{text}"}}'


def test_declared_charsets_win_and_gb2312_reads_as_gb18030() -> None:
    body = SIMPLIFIED.encode("gbk")
    assert detect_encoding(body, "text/html;charset=gb2312") == "gb18030"
    assert decode_body(f'<html><head><meta charset="big5"></head><p>{REVIEW}</p>'.encode("big5")).endswith(
        f"<p>{REVIEW}</p>"
    )
    assert decode_body(b'<?xml version="1.0" encoding="GBK"?><rss>' + SIMPLIFIED.encode("gbk") + b"</rss>").endswith(
        SIMPLIFIED + "</rss>"
    )


def test_retry_after_seconds_and_http_dates() -> None:
    assert _retry_after("7") == 7
    assert 0 <= (_retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))) or 0) <= 31
    assert _retry_after("soon") is None


def test_per_host_rate_limit_spaces_requests() -> None:
    limiter = HostLimiter()
    started = time.monotonic()
    for _ in range(4):
        limiter.wait("example.test", 0.1)
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    limiter.wait("other.test", 0.1)  # another host is not held back
    assert time.monotonic() - started < 0.05


def test_client_sends_configured_headers_and_honours_min_interval(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOUBEI_TEST_TOKEN", "Bearer abc")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)  # no robots.txt: allowed
    httpserver.expect_request("/api").respond_with_json({"ok": 1})
    options = HttpOptions.from_options(
        "t",
        HttpSourceOptions(
            min_interval=0.15, retries=0, cookies={"buvid3": "x"}, headers_env={"Authorization": "KOUBEI_TEST_TOKEN"}
        ),
    )
    client = HttpClient("t", options)
    started = time.monotonic()
    for _ in range(3):
        assert client.get(httpserver.url_for("/api")).status == 200
    assert time.monotonic() - started >= 0.3
    request = next(r for r, _ in httpserver.log if r.path == "/api")
    assert request.headers["Authorization"] == "Bearer abc" and "buvid3=x" in request.headers["Cookie"]
    assert request.headers["User-Agent"].startswith("koubei/")


def test_bad_http_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"\[sources.jd\] timeout = \"fast\": expected a number"):
        parse_source("jd", {"skus": ["1"], "timeout": "fast"})
    with pytest.raises(ConfigError, match="KOUBEI_TEST_NOT_SET"):
        HttpOptions.from_options("jd", HttpSourceOptions(proxy_env="KOUBEI_TEST_NOT_SET"))
    assert (
        HttpOptions.from_options("jd", HttpSourceOptions(proxy="http://127.0.0.1:3128")).proxy
        == "http://127.0.0.1:3128"
    )


def test_requests_go_through_the_configured_proxy(httpserver: HTTPServer) -> None:
    # The local server plays the proxy: a proxied request arrives with the absolute target URL.
    httpserver.expect_request("/reviews").respond_with_data("proxied", content_type="text/plain; charset=utf-8")
    options = HttpOptions.from_options(
        "t", HttpSourceOptions(proxy=f"http://127.0.0.1:{httpserver.port}", robots=False, min_interval=0)
    )
    response = HttpClient("t", options).get("http://reviews.example.invalid/reviews")
    assert response.text == "proxied"
    ((request, _),) = httpserver.log
    assert request.host == "reviews.example.invalid"
