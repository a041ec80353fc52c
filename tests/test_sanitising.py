from django.urls import reverse

from tests.helpers import write_article
from troubleshooting.markup import render_markdown
from troubleshooting.models import Article


def test_script_tags_and_event_handlers_never_reach_the_page(db, client, tmp_path):
    write_article(
        tmp_path,
        replace=(
            "The server only accepts mTLS.",
            'The server <script>alert("x")</script> only <img src=x onerror=alert(1)> accepts '
            '[mTLS](javascript:alert(1)) <a href="https://istio.io" onclick="steal()">docs</a>.',
        ),
    )
    from django.core.management import call_command

    call_command("loadarticles", dirs=[str(tmp_path)], stdout=open("/dev/null", "w"))
    html = client.get(reverse("article", args=["demo-mtls-reset"])).content.decode()
    body = html.split("<main", 1)[1]
    assert "<script>alert" not in body and "onerror" not in body and "onclick" not in body
    assert "javascript:" not in body
    assert 'href="https://istio.io" rel="noopener noreferrer nofollow"' in body
    assert Article.objects.get().sections["root_cause"].startswith("The server <script>")  # stored as written


def test_symptom_text_is_escaped_not_interpreted(db, client, tmp_path):
    write_article(tmp_path, replace=('"curl: (56) Recv failure: Connection reset by peer"', '"<b>bold</b> & <i>"'))
    from django.core.management import call_command

    call_command("loadarticles", dirs=[str(tmp_path)], stdout=open("/dev/null", "w"))
    html = client.get(reverse("article", args=["demo-mtls-reset"])).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;" in html


def test_code_blocks_keep_their_text_and_get_a_copy_button():
    html = render_markdown("```yaml\nkind: Gateway\nmetadata: {name: \"<x>\"}\n```\n")
    assert html.startswith('<div class="codeblock" data-language="yaml">')
    assert '<button type="button" class="copy-button" data-copy>Copy</button>' in html
    assert '<code class="language-yaml">kind: Gateway\nmetadata: {name: "&lt;x&gt;"}\n</code>' in html


def test_a_code_class_that_is_not_a_language_is_dropped():
    html = render_markdown('<pre><code class="evil" onmouseover="x()">x</code></pre>')
    assert 'class="evil"' not in html and "onmouseover" not in html


def test_backticks_in_summaries_become_code_and_html_stays_escaped():
    from troubleshooting.templatetags.meshkb import inline_code

    assert inline_code("set `tls.mode` <b>now</b>") == "set <code>tls.mode</code> &lt;b&gt;now&lt;/b&gt;"
