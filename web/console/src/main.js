// The counselor console: sign in (or continue this browser's device), publish the device's
// keys, connect, list conversations, and place and answer calls.

import { Api } from "./api.js";
import { CallDesk } from "./desk.js";
import { MasterKeyElsewhere, publishedDevice, useToken } from "./keys.js";
import { Session } from "./session.js";
import { Signalling } from "./signalling.js";
import { ConsoleView } from "./ui.js";

const view = new ConsoleView();

async function enter(session) {
  const api = new Api(session.token);
  let device;
  try {
    device = await publishedDevice(session.token, session.identity);
  } catch (error) {
    if (error instanceof MasterKeyElsewhere) await session.signOut().catch(() => {});
    throw error; // shown under the sign-in form
  }
  const signalling = new Signalling(session.token);
  device.attach(signalling.socket); // key and membership changes drop the keyring's caches

  session.addEventListener("token", ({ detail: token }) => {
    api.token = token;
    useToken(device, token);
    signalling.renew(token).catch((error) => view.error(`Could not renew: ${error.message}`));
  });
  session.addEventListener("expired", () => view.error("Signed out: sign in again"));
  // The token ran out before it was renewed (a sleeping laptop): refresh, connect again, and
  // the live call resumes (CallDesk sends call.resume on reconnect).
  const reconnect = () => {
    signalling.close();
    session
      .refresh()
      .then(() => signalling.socket.connect())
      .catch((error) => view.error(`Signed out: ${error.message}`));
  };
  signalling.addEventListener("expired", () => session.refresh().catch(() => {}));
  signalling.addEventListener("connected", () => view.error(null));
  signalling.addEventListener("connect_error", ({ detail }) => {
    if (detail.code === "token_expired") reconnect();
    else view.error(`Cannot connect: ${detail.message}`);
  });
  signalling.addEventListener("closed", ({ detail }) => {
    if (detail?.reason === "token_expired") {
      reconnect();
      return;
    }
    view.error(`Signed out (${detail?.reason ?? "closed by the server"})`);
    signalling.close();
  });
  await signalling.connected();

  const desk = new CallDesk({ signalling, device, api });
  view.error(null);
  view.signedIn(session.user, session.deviceId, async () => {
    signalling.close();
    await session.signOut();
    location.reload();
  });
  view.bind(desk);
  const place = (conversation, media) => desk.place(conversation, media);
  const list = async () => view.conversations(await api.conversations(), session.user.id, place);
  signalling.socket.on("conversation.updated", () => list().catch(() => {}));
  await list();
}

async function start() {
  try {
    const session = await Session.resume();
    if (session) {
      await enter(session);
      return;
    }
  } catch (error) {
    console.error(error);
    view.error(error.message);
  } finally {
    document.body.dataset.ready = "true";
  }
  view.signedOut(async (login, password) => enter(await Session.signIn(login, password)));
}

start();
