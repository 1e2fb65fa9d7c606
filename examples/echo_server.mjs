// A TCP echo server whose connection handling all runs on a zigloop loop:
// Node (libuv) does the I/O, loop.watch() turns each readiness event into a loop task.
//
// Run: node examples/echo_server.mjs [port]      then: nc 127.0.0.1 <port>
import net from "node:net";

/**
 * Starts an echo server on 127.0.0.1 whose accept, read, write and close handling
 * runs as tasks on `loop`. Returns the server and a stop function.
 */
export async function startEchoServer(loop, { port = 0 } = {}) {
  const server = net.createServer({ pauseOnConnect: true });
  const serverWatch = loop.watch(
    server,
    ({ type, data }) => {
      if (type === "connection") handleConnection(loop, data);
      else if (type === "error") loop.onError(data);
    },
    { events: ["connection", "error"] },
  );
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const stop = () =>
    new Promise((resolve) => {
      serverWatch.close();
      server.close(() => resolve());
    });
  return { server, port: server.address().port, stop };
}

function handleConnection(loop, socket) {
  let blocked = false; // the peer is slower than us: wait for "writable" before reading more
  const pump = () => {
    let chunk;
    while (!blocked && (chunk = socket.read()) !== null) {
      if (!socket.write(chunk)) blocked = true;
    }
  };
  loop.watch(socket, ({ type }) => {
    switch (type) {
      case "readable":
        pump();
        break;
      case "writable":
        blocked = false;
        pump();
        break;
      case "end":
        socket.end();
        break;
      case "error":
        socket.destroy();
        break;
      // "close": the watch ends by itself after delivering it.
    }
  });
  socket.resume();
}

// Run as a program: serve until interrupted, then shut the loop down gracefully.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { createEventLoop } = await import("zigloop");
  const loop = await createEventLoop({ profile: "node", metrics: true });
  const { port, stop } = await startEchoServer(loop, { port: Number(process.argv[2] ?? 0) });
  console.log(`echo server on 127.0.0.1:${port} (Ctrl-C to stop)`);
  process.once("SIGINT", async () => {
    await stop();
    const report = await loop.shutdown();
    console.log(`\nstopped; ${loop.metrics().tasksExecuted} loop tasks ran`, report);
  });
  await loop.run();
}
