"""Templates in workflow configs: Jinja2's sandbox with strict undefined, compiled once per text.

A template sees `input` (the run's input), `nodes.<id>.output` (outputs of earlier steps) and,
inside a loop, `item` and `index`. A value that is exactly one expression (`"{{ nodes.a.output }}"`)
renders to that value itself (a list stays a list); any other text renders to a string.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.environment import Template as JinjaTemplate
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import SandboxedEnvironment


class TemplateFailed(ValueError):
    """A template that does not compile or does not render (an unknown name, a sandbox refusal)."""


class _NativeSandbox(SandboxedEnvironment, NativeEnvironment):
    """The sandbox, rendering a lone expression to its Python value."""


_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_text_env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
_native_env = _NativeSandbox(undefined=StrictUndefined, autoescape=False)
_LONE_EXPRESSION = re.compile(r"^\s*\{\{(?:(?!\}\}).)*\}\}\s*$", re.DOTALL)


@functools.lru_cache(maxsize=4096)
def compile_template(text: str) -> JinjaTemplate:
    """The compiled template for `text` (cached); raises TemplateFailed with Jinja2's message if it does not compile."""
    env = _native_env if _LONE_EXPRESSION.match(text) else _text_env
    try:
        return env.from_string(text)
    except TemplateError as exc:
        raise TemplateFailed(f"template does not compile: {exc}") from exc


def render(text: str, scope: dict[str, Any]) -> Any:
    """Render one template against `scope`; a lone expression keeps its value's type, other text is a string."""
    if "{" not in text:
        return text  # plain text: nothing to render (most config strings)
    template = compile_template(text)
    try:
        value = template.render(scope)
        if isinstance(value, Undefined):  # a lone expression hands back the Undefined instead of printing it
            value._fail_with_undefined_error()
        return value
    except TemplateError as exc:
        raise TemplateFailed(f"template failed: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateFailed(f"template failed: {exc!r}") from exc


def render_value(value: Any, scope: dict[str, Any]) -> Any:
    """Render every string inside `value` (dicts and lists walked), keeping the structure."""
    if isinstance(value, str):
        return render(value, scope)
    if isinstance(value, dict):
        return {key: render_value(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, scope) for item in value]
    return value


def render_json(value: Any, scope: dict[str, Any]) -> Any:
    """Like `render_value`, but a string that renders to JSON text is parsed (transform nodes)."""
    rendered = render_value(value, scope)
    return _parse_strings(rendered)


def _parse_strings(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {key: _parse_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_parse_strings(item) for item in value]
    return value


def render_text(text: str, scope: dict[str, Any]) -> str:
    """Render a template that must be text (titles, instructions, mail): a lone expression's value as a string."""
    value = render(text, scope)
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
