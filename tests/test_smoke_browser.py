"""Can Playwright drive Debian's Chromium here at all? (the rest of the browser tests rely on it)"""


def test_chromium_opens_the_seed_index(seeds_site, page):
    page.goto((seeds_site / "index.html").as_uri())
    assert page.title()
    assert page.locator("a[href^='digests/']").count() >= 4
    assert page.problems == []
