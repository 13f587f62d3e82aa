// A graphql-ws (graphql-transport-ws) client as a frontend would use it: subscribes to one
// profile's link events after a given event id, prints `subscribed` once connected, then the
// first event as one JSON line, and exits.
//
//   node subscribe.mjs ws://127.0.0.1:8080/graphql <profileId> <afterEventId>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, profileId, after] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: {},
  on: { connected: () => console.log('subscribed') },
  lazy: false,
});

const timer = setTimeout(() => {
  console.error('no event within 20 s');
  process.exit(2);
}, 20_000);

client.subscribe(
  {
    query: `subscription($profileId: ID, $after: ID) {
      linkStatusChanged(profileId: $profileId, after: $after) { id kind from to reason profileId }
    }`,
    variables: { profileId, after },
  },
  {
    next: (result) => {
      if (result.errors) {
        console.error(JSON.stringify(result.errors));
        process.exit(1);
      }
      console.log(JSON.stringify(result.data.linkStatusChanged));
      clearTimeout(timer);
      client.dispose();
      process.exit(0);
    },
    error: (err) => {
      console.error(err instanceof Error ? err.message : JSON.stringify(err));
      process.exit(1);
    },
    complete: () => {},
  },
);
