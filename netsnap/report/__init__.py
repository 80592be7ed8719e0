"""Renderers of an AnalysisResult: terminal text (rich), stable JSON, and a self-contained HTML file."""

from netsnap.report.html import render_html
from netsnap.report.json_output import AnalyzeOutput, analyze_schema, render_json
from netsnap.report.text import render_text

__all__ = ["AnalyzeOutput", "analyze_schema", "render_html", "render_json", "render_text"]
