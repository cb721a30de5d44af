// The page: sign-in form, conversations, the incoming-call prompt and the call panel. DOM
// only (textContent, never HTML strings); every element tests use has a data-testid.

const $ = (id) => document.getElementById(id);

function show(element, visible) {
  element.hidden = !visible;
}

function button(text, testid, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.dataset.testid = testid;
  element.addEventListener("click", onClick);
  return element;
}

const shortId = (id) => (id ? id.slice(-8) : "?");

export class ConsoleView {
  constructor() {
    this.desk = null;
    $("mute").addEventListener("click", () => this.desk?.current?.toggleMute());
    $("camera").addEventListener("click", () => this.desk?.current?.toggleCamera());
    $("hangup").addEventListener("click", () => this.#act(() => this.desk.current.hangup()));
    $("close-call").addEventListener("click", () => this.desk?.dismiss());
  }

  error(message) {
    $("error").textContent = message ?? "";
    show($("error"), Boolean(message));
  }

  /** Sign-in form; `submit(login, password)` may throw to show its message. */
  signedOut(submit) {
    show($("login"), true);
    show($("desk"), false);
    show($("logout"), false);
    $("whoami").textContent = "";
    $("login").onsubmit = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      this.error(null);
      await this.#act(() => submit(form.get("login"), form.get("password")));
    };
  }

  signedIn(user, deviceId, signOut) {
    show($("login"), false);
    show($("desk"), true);
    show($("logout"), true);
    $("whoami").textContent = `${user.display_name} (${user.role})`;
    Object.assign($("whoami").dataset, { userId: user.id, deviceId });
    $("logout").onclick = () => this.#act(signOut);
  }

  conversations(list, myId, place) {
    const items = list.map((conversation) => {
      const item = document.createElement("li");
      item.dataset.testid = "conversation";
      item.dataset.conversationId = conversation.id;
      const label = document.createElement("span");
      const others = conversation.members.filter((m) => m.user_id !== myId);
      label.textContent =
        conversation.kind === "direct"
          ? `Conversation with ${shortId(others[0]?.user_id)}`
          : `${conversation.title ?? "Group"} (group: no calls)`;
      item.append(label);
      if (conversation.kind === "direct" && others.length === 1) {
        item.append(
          button("Voice call", "call-audio", () => this.#act(() => place(conversation, "audio"))),
          button("Video call", "call-video", () => this.#act(() => place(conversation, "video"))),
        );
      }
      return item;
    });
    if (items.length === 0) {
      const empty = document.createElement("li");
      empty.textContent = "No conversations yet.";
      items.push(empty);
    }
    $("conversations").replaceChildren(...items);
  }

  bind(desk) {
    this.desk = desk;
    desk.addEventListener("change", () => this.renderCalls());
    $("accept").onclick = () => this.#act(() => desk.accept(this.ringing));
    $("decline").onclick = () => this.#act(() => this.ringing.decline());
    this.renderCalls();
  }

  renderCalls() {
    const desk = this.desk;
    this.ringing = desk.ringing.find((call) => call !== desk.current) ?? null;
    show($("incoming"), this.ringing !== null);
    if (this.ringing) {
      const kind = this.ringing.media === "video" ? "video" : "voice";
      $("incoming-text").textContent =
        `Incoming ${kind} call from ${shortId(this.ringing.peerUserId)}`;
      $("incoming").dataset.callId = this.ringing.callId;
    }
    const call = desk.current;
    const visible = call !== null && !(call.role === "callee" && call.state === "ringing");
    show($("call"), visible);
    if (visible) this.#renderCall(call);
  }

  #renderCall(call) {
    const panel = $("call");
    Object.assign(panel.dataset, {
      callId: call.callId,
      state: call.state,
      role: call.role,
      media: call.media,
      endReason: call.endReason ?? "",
    });
    $("call-status").textContent = call.status;
    $("call-error").textContent = call.error ?? "";
    show($("call-error"), Boolean(call.error));
    bindStream($("local-video"), call.localStream);
    bindStream($("remote-video"), call.remoteStream);
    const live = call.state !== "ended";
    $("mute").setAttribute("aria-pressed", String(call.muted));
    $("mute").textContent = call.muted ? "Unmute" : "Mute";
    $("camera").setAttribute("aria-pressed", String(call.cameraOff));
    $("camera").textContent = call.cameraOff ? "Camera on" : "Camera off";
    show($("camera"), call.media === "video" && live);
    show($("mute"), live);
    show($("hangup"), live);
    show($("close-call"), !live);
    this.#renderQuality(call.quality);
  }

  #renderQuality(quality) {
    const stats = $("call-stats");
    if (!quality) {
      stats.textContent = "";
      return;
    }
    Object.assign(stats.dataset, {
      framesDecoded: String(quality.framesDecoded),
      audioPackets: String(quality.audioPackets),
      relayed: String(quality.relayed),
    });
    const parts = [quality.relayed ? "relayed (TURN)" : "direct"];
    if (quality.frameWidth) parts.push(`${quality.frameWidth}×${quality.frameHeight}`);
    if (quality.rttMs !== null) parts.push(`rtt ${Math.round(quality.rttMs)} ms`);
    if (quality.lossPct !== null) parts.push(`loss ${quality.lossPct.toFixed(1)} %`);
    if (quality.bitrateKbps !== null) parts.push(`${Math.round(quality.bitrateKbps)} kbit/s`);
    stats.textContent = parts.join(" · ");
  }

  async #act(action) {
    try {
      await action();
    } catch (error) {
      console.error(error);
      this.error(error.message);
    }
  }
}

function bindStream(video, stream) {
  if (video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
}
