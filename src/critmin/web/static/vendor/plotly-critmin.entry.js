'use strict';
// critmin's partial plotly.js bundle: only the trace types the dashboard draws.
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/histogram'),
    require('plotly.js/lib/choropleth'),
    require('plotly.js/lib/sankey'),
]);
module.exports = Plotly;
