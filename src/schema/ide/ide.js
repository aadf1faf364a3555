// Starts GraphiQL on the IDE page. A file of its own, not an inline script, so that the page's
// Content-Security-Policy can allow scripts from this server only ('self').
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.getAttribute("data-endpoint") || "/graphql", location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  // Queries and mutations are POSTed to /graphql with the headers from the Headers tab. Subscriptions
  // use graphql-ws at the same path (GraphiQL's bundle carries the client); the socket opens only when
  // a subscription runs, and the Headers tab's values become its connection params.
  var fetcher = GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: socket.href });

  var defaultQuery = [
    "# ThingsNXT GraphQL API",
    "#",
    "# Operations of a signed-in user need an access token (from the login or register",
    "# mutation): open Headers below and set",
    '#   { "Authorization": "Bearer <access token>" }',
    "#",
    "# Run with Ctrl-Enter or the run button.",
    "",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      // Tokens stay out of localStorage unless the user opts in (GraphiQL's settings dialog).
      shouldPersistHeaders: false,
    }),
  );
})();
