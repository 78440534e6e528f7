"""The Gradio web app: its handlers, rendering, limits, uploads and static files."""
