"""The shared template is plotly_white for every trace type our charts draw."""

import plotly.graph_objects as go
import plotly.io as pio

from workbench.viz.style import finish_figure


def test_the_template_draws_as_plotly_white():
    for trace in (go.Bar(x=[1], y=[2]), go.Scatter(x=[1], y=[2]), go.Heatmap(z=[[1, 2]]),
                  go.Histogram(x=[1, 2])):
        ours = finish_figure(go.Figure(trace), "t").to_plotly_json()["layout"]["template"]
        white = pio.templates["plotly_white"].to_plotly_json()
        assert ours["layout"] == white["layout"]
        assert ours["data"][trace.type] == white["data"][trace.type]
