// Starts GraphiQL on the page's #graphiql element against the endpoint it
// names, over HTTP for queries and mutations and the websocket for
// subscriptions, all on the server that served the page.
(function () {
  'use strict';
  var el = document.getElementById('graphiql');
  var endpoint = el.getAttribute('data-endpoint');
  var wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: location.origin + endpoint,
    subscriptionUrl: wsScheme + '//' + location.host + endpoint,
  });
  var defaultQuery = [
    '# Welcome to Cutline. The Docs pane (top left) describes every type and field.',
    '#',
    '# Register or log in, then put the access token in Headers below:',
    '#   {"Authorization": "Bearer <accessToken>"}',
    '',
    'mutation Register {',
    '  register(input: {username: "ada", email: "ada@example.com", password: "correct horse"}) {',
    '    accessToken refreshToken expiresAt user { id username }',
    '  }',
    '}',
    '',
    'query MyFiles {',
    '  files(first: 20) { edges { node { id name rowCount userTags } } pageInfo { hasNextPage endCursor } }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(el).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
