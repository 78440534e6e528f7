"""Gradio's Blocks with one fix: a call that lacks values is refused in one line.

Gradio itself raises ValueError, prints a traceback and tells the client nothing
(`{"error": null}`); SECURITY.md promises a one-line message for bad input everywhere.
"""

import inspect

import gradio as gr


class StrictBlocks(gr.Blocks):
    """gr.Blocks whose input check names the endpoint's values when too few are given."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) < len(block_fn.inputs):
            try:
                names = " (" + ", ".join(list(inspect.signature(block_fn.fn).parameters)[: len(block_fn.inputs)]) + ")"
            except (TypeError, ValueError):
                names = ""
            raise gr.Error(f"{block_fn.name or 'this endpoint'} takes {len(block_fn.inputs)} values{names}; "
                           f"got {len(inputs)}", print_exception=False)
        return super().validate_inputs(block_fn, inputs)
