// @sfprompt/protocol/charts: the run charts shared by `sfprompt run` and the operator's HTTP server,
// apart from the data-plane contract so that neither pulls the other in.
export * from "./svg-chart.js";
export * from "./round-charts.js";
