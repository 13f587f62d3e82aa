// Mounts GraphiQL on #graphiql with the settings the server put in its data-* attributes.
(function () {
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.dataset.endpoint, window.location.href);
  var subscriptions = new URL(root.dataset.endpoint, window.location.href);
  subscriptions.protocol = subscriptions.protocol === "https:" ? "wss:" : "ws:";
  // The headers editor's content is sent with every request and, for subscriptions, as the
  // graphql-ws `connection_init` payload (the server reads Authorization / X-Api-Key there).
  var props = {
    fetcher: GraphiQL.createFetcher({
      url: endpoint.toString(),
      subscriptionUrl: subscriptions.toString(),
    }),
    defaultEditorToolsVisibility: true,
  };
  if (root.dataset.headers) {
    props.headers = root.dataset.headers;
    props.defaultEditorToolsVisibility = "headers";
  } else {
    props.defaultHeaders = '{\n  "Authorization": "Bearer <token>"\n}';
  }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
