import pytest

from archive.urls import canonical_url


@pytest.mark.parametrize(
    "variant",
    [
        "http://127.0.0.1:8800/news/12.html",
        "http://127.0.0.1:8800/news/12.html#top",
        "http://127.0.0.1:8800/news/12.html?from=timeline",
        "http://127.0.0.1:8800/news/12.html?utm_source=x&spm=1.2",
        "HTTP://127.0.0.1:8800/news/12.html",
    ],
)
def test_variants_of_one_article_are_one_url(variant: str) -> None:
    assert canonical_url(variant) == "http://127.0.0.1:8800/news/12.html"


def test_index_html_is_its_directory() -> None:
    assert canonical_url("http://a.example/news/index.html") == "http://a.example/news/"


def test_meaningful_query_parameters_stay() -> None:
    assert canonical_url("http://a.example/show.php?id=7&from=x") == "http://a.example/show.php?id=7"
