"""Web UI adapter: build_app and serve live in assistant.ui.app (imported on demand, gradio is heavy)."""
