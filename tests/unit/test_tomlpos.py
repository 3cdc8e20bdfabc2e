from llmswitch.base.tomlpos import key_lines, table_span

TEXT = '''# comment
top = 1
[providers.openrouter]
base_url = "https://x"
models = [
  "a",  # [not a table]
]
"quoted.key".sub = 1
text = """
[fake]
"""
[providers.openrouter.headers]
X-Title = "t"
# about groq
[providers.groq]
name = 'g'
'''


def test_key_lines_follow_tables_dotted_quoted_and_multiline_values():
    lines = key_lines(TEXT)
    assert lines[("top",)] == 2
    assert lines[("providers", "openrouter")] == 3
    assert lines[("providers", "openrouter", "base_url")] == 4
    assert lines[("providers", "openrouter", "quoted.key", "sub")] == 8
    assert ("fake",) not in lines
    assert lines[("providers", "openrouter", "headers", "X-Title")] == 13
    assert lines[("providers", "groq", "name")] == 16


def test_table_span_includes_subtables_and_leaves_the_next_comment():
    start, end = table_span(TEXT, ("providers", "openrouter"))
    body = TEXT.splitlines()[start:end]
    assert body[0] == "[providers.openrouter]" and body[-1] == 'X-Title = "t"'
    assert table_span(TEXT, ("providers", "missing")) is None
