"""Serve the web chat: `python app.py` (index from ASSISTANT_INDEX, default "index";
address from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, default 127.0.0.1:7860)."""

from assistant.apps.web.serve import main

if __name__ == "__main__":
    main()
