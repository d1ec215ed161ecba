/**
 * The meter simulator runner: listens (TCP, UDP or one serial port / injected medium), wraps each accepted medium in
 * a ServerChannel (lib/server/transport.ts), keeps one association + services state per (link, client SAP), and
 * pushes DataNotifications to the push setup's destination on a schedule and on demand (push setup method 1).
 *
 * Counters that real meters persist (the client invocation counter each client must exceed, the server's own)
 * live per client SAP for the whole run, so a second connection with an old counter is refused as a replay (or per
 * connection with countersPerConnection: many meters sharing one key).
 */
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { decodeApdu, encodeApdu, type Aare, type Apdu } from '../apdu/index';
import type { DataNotification, EventNotificationRequest } from '../apdu/notification';
import { dateTimeFromDate, dateTimeToBytes } from '../axdr/datetime';
import type { TraceSink } from '../trace';
import { DlmsError, MediaError, UsageError } from '../errors';
import { encodeWrapper } from '../link/wrapper';
import { TcpListener, UdpListener } from '../media/listener';
import { MODE_E_SIGN_ON_FRAMING } from '../media/mode-e-session';
import { isReframable, type Medium } from '../media/types';
import type { Referencing } from '../security/association-names';
import { wrapGeneralGlo } from '../security/cipher';
import { securityControlFor } from '../security/security-control';
import { obisToBytes, parseObis } from '../cosem/obis';
import { fromHex } from '../util/hex';
import { type ClientAssociationConfig, ServerAssociation } from './association';
import type { ServerChannel, ServerPeer } from './channel';
import type { ImageTransferModelOptions } from './model/image-transfer';
import { buildMeterModel, type SimulatedMeter } from './model/meter';
import type { AssociationDefinition, SecuritySetupKeys } from './model/objects';
import type { AccessContext, CosemObject, MeterModel } from './model/types';
import { type ClientDescription, clientFromOptions, type ClientOptionFields, describeClient, type ProfileName, type SimulatorProfile, simulatorProfile } from './profiles';
import { newSecurityRuntime, type SecurityRuntime } from './protection';
import { ServerServices } from './services';
import { type ServerFaults, serveMedium } from './transport';
import { resolveServerModeE, type ResolvedServerModeE, type ServerModeEOptions } from './mode-e';

export interface PushOptions {
  /** host:port; default: the push setup object's destination. */
  destination?: string;
  /** Push every this many ms (0/absent: only on demand). */
  intervalMs?: number;
  /** Protect the notification with general-glo-ciphering (keys of the first ciphered client). */
  ciphered?: boolean;
  protocol?: 'tcp' | 'udp';
}

export interface SimulatorOptions {
  /** 0 = ephemeral (default 4059). */
  port?: number;
  host?: string;
  framing: 'hdlc' | 'wrapper';
  transport?: 'tcp' | 'udp' | 'serial';
  /** serial: a medium to serve (e.g. a SerialMedium, or a test double). */
  medium?: Medium;
  /**
   * HDLC: answer the IEC 62056-21 mode E sign-on first (true, or the identification and baud rate to offer). A
   * reframable medium is opened at 300 Bd 7E1 and switched to the offered rate at 8N1 after the client's ACK.
   */
  modeE?: boolean | ServerModeEOptions;
  referencing?: Referencing;
  profile?: ProfileName;
  physicalAddress?: number;
  logicalDevice?: number;
  /** Extra clients: option-schema objects (as `dlms simulate` passes them) or ready configurations. */
  clients?: (ClientOptionFields | ClientAssociationConfig)[];
  serverSystemTitle?: Uint8Array | string;
  /** Raw private scalar for HLS-ECDSA pass 4. */
  serverSigningKey?: Uint8Array;
  /** Raw private scalar of the meter's key-agreement key (general-ciphering with agreed key). */
  serverKeyAgreementKey?: Uint8Array;
  /** Replaces the built-in meter entirely (association objects included). */
  model?: MeterModel;
  /** Replace the built-in meter's objects (e.g. from loadModelFile); the association objects stay. */
  objects?: CosemObject[];
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  faults?: ServerFaults;
  /** HDLC: the longest information field the meter takes and sends (default: the profile's, else 128). */
  hdlcMaxInfo?: number;
  /** HDLC: the window the meter takes and uses, up to what the client proposes, 1..7 (default 1). */
  hdlcWindow?: number;
  /**
   * The meter's own maximum PDU: announced in the AARE, and no answer block is larger whatever the client proposes
   * (real meters use 256–1024). Default: the profile's announcement, with blocks that follow the client's proposal.
   */
  serverMaxPdu?: number;
  /**
   * General block transfer: the most blocks of an answer the meter streams before it waits for the client's
   * acknowledgement, 1..63 (default: as many as the client's window). Real meters stream fewer than a client takes.
   */
  gbtWindow?: number;
  /** The firmware image transfer object 0.0.44.0.0.255 (block size, largest image, background checks). */
  imageTransfer?: Omit<ImageTransferModelOptions, 'onBlock'>;
  /**
   * TCP: connections served at once (5000). A new one beyond that evicts the connection idle longest (one that has
   * not sent a valid frame yet first), so silent sockets cannot lock clients out.
   */
  maxConnections?: number;
  /** TCP: close a connection that sent no valid frame this long after connecting (10 000 ms; 0: never). */
  firstFrameTimeoutMs?: number;
  /**
   * Each connection is a meter of its own for invocation counters: its own replay guard and its own counter, as many
   * meters sharing one key would be (a head-end reading thousands of them at once). Default: one meter, whose
   * counters per client SAP span every connection, so a second connection with an old counter is refused. The
   * invocation counter objects then read 0.
   */
  countersPerConnection?: boolean;
  push?: PushOptions;
  trace?: TraceSink;
  log?: (line: string) => void;
}

export interface Simulator {
  readonly port: number;
  readonly address: string;
  readonly profile: SimulatorProfile;
  /** The built-in meter (absent when a model was given). */
  readonly meter?: SimulatedMeter;
  readonly model: MeterModel;
  clients(): ClientDescription[];
  /** Sends a DataNotification to the push destination now. */
  push(): Promise<void>;
  /**
   * Sends an EventNotificationRequest on every established association (default: the clock's time, class 8
   * attribute 2): how meters report events to a client that keeps its association open. Resolves with the number of
   * associations notified.
   */
  notifyEvent(event?: { classId: number; obis: string; attribute: number }): Promise<number>;
  /** Connections (TCP connections, UDP peers, the serial port) being served now: a closed one no longer counts. */
  readonly activeConnections: number;
  close(): Promise<void>;
}

/** A numeric option, when given, must be an integer min..max. */
function checkIntegerOption(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new UsageError('bad-option', `${name} ${value} is not an integer ${min}..${max}`);
  }
}

function isConfig(c: ClientOptionFields | ClientAssociationConfig): c is ClientAssociationConfig {
  return (c as ClientAssociationConfig).associationLn instanceof Uint8Array;
}

interface Session {
  association: ServerAssociation;
  services: ServerServices;
  /** The client configuration the association was made with (key_transfer replaces it for later ones). */
  config: ClientAssociationConfig;
}

class SimulatorImpl implements Simulator {
  port = 0;
  address = '';
  readonly profile: SimulatorProfile;
  readonly meter?: SimulatedMeter;
  readonly model: MeterModel;
  private readonly configs: ClientAssociationConfig[];
  private readonly runtimes = new Map<number, SecurityRuntime>();
  /** Per connection served: its associations and the peer each client SAP called from (to send event notifications). */
  private readonly links = new Map<ServerChannel, { sessions: Map<number, Session>; peers: Map<number, ServerPeer> }>();
  private tcp?: TcpListener;
  private udp?: UdpListener;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private pushId = 0;
  /** Image blocks accepted this run, and whether the link that carried the latest must now be dropped. */
  private imageBlocks = 0;
  private dropLinkNow = false;
  private readonly now: () => Date;
  /** Checked up front, so a bad identification fails startSimulator rather than every connection. */
  private readonly modeE: ResolvedServerModeE | undefined;

  constructor(private readonly options: SimulatorOptions) {
    if (options.modeE && options.framing !== 'hdlc') throw new UsageError('bad-option', 'mode E switches an optical port to HDLC: the simulator needs --framing hdlc with --mode-e');
    this.modeE = options.modeE ? resolveServerModeE(options.modeE === true ? {} : options.modeE) : undefined;
    this.profile = simulatorProfile(options.profile ?? 'generic', options.referencing);
    if (options.serverSystemTitle !== undefined) {
      this.profile.serverSystemTitle = typeof options.serverSystemTitle === 'string' ? fromHex(options.serverSystemTitle, 'server system title') : options.serverSystemTitle;
    }
    if (options.serverSigningKey) this.profile.serverSigningKey = options.serverSigningKey;
    if (options.serverKeyAgreementKey) this.profile.serverKeyAgreementKey = options.serverKeyAgreementKey;
    if (options.physicalAddress !== undefined) this.profile.physicalAddress = options.physicalAddress;
    const referencing = this.profile.referencing;
    this.configs = [...this.profile.clients];
    for (const extra of options.clients ?? []) {
      const config = isConfig(extra) ? extra : clientFromOptions({ ...extra, referencing }, this.configs.length + 1, this.profile.clients[0]?.conformance);
      // A configured client replaces a built-in one with the same SAP.
      const at = this.configs.findIndex((c) => c.clientSap === config.clientSap);
      if (at >= 0) this.configs[at] = { ...config, associationLn: this.configs[at]!.associationLn };
      else this.configs.push(config);
    }
    checkIntegerOption('hdlcMaxInfo', options.hdlcMaxInfo, 32, 2030);
    checkIntegerOption('hdlcWindow', options.hdlcWindow, 1, 7);
    checkIntegerOption('gbtWindow', options.gbtWindow, 1, 63);
    checkIntegerOption('serverMaxPdu', options.serverMaxPdu, 64, 0xffff);
    const pdu = options.serverMaxPdu;
    if (pdu !== undefined) this.configs = this.configs.map((c) => ({ ...c, maxPduSize: pdu, maxAnswerPdu: pdu }));
    this.now = options.now ?? (() => new Date());
    if (options.model) this.model = options.model;
    else {
      this.meter = buildMeterModel({
        referencing,
        associations: this.configs.map((c) => this.definition(c)),
        conformance: this.configs[0]?.conformance ?? 0,
        serverMaxPduSize: this.configs[0]?.maxPduSize ?? 1024,
        serverSystemTitle: this.profile.serverSystemTitle,
        invocationCounter: (instance) => this.counterFor(instance),
        securityKeys: this.securityKeys(),
        secretWritten: (d, secret) => this.takeSecret(d.clientSap, secret),
        pushRequested: () => {
          this.push().catch((e: unknown) => this.log(`push failed: ${e instanceof Error ? e.message : String(e)}`));
        },
        ...(options.push?.destination ? { pushDestination: options.push.destination } : {}),
        ...(options.objects ? { objects: options.objects } : {}),
        imageTransfer: { ...options.imageTransfer, onBlock: () => this.imageBlockAccepted() },
        hdlc: {},
      });
      this.model = this.meter.model;
    }
  }

  private definition(c: ClientAssociationConfig): AssociationDefinition {
    const instance = c.associationLn[4]!;
    const ciphered = c.security !== 'none' || c.authentication === 'high-gmac';
    return { clientSap: c.clientSap, instance, mechanism: mechanismId(c.authentication), rights: c.rights, securitySetup: ciphered ? instance : 0 };
  }

  /**
   * Security setup key_transfer: the calling client's master key, and its new keys for the associations after this
   * one. A new block cipher key starts the invocation counters afresh, as they count per key.
   */
  private securityKeys(): SecuritySetupKeys {
    const find = (ctx: AccessContext): number => this.configs.findIndex((c) => c.clientSap === ctx.clientSap);
    return {
      clientKeys: (ctx) => {
        const c = this.configs[find(ctx)];
        return c ? { ...(c.masterKey ? { masterKey: c.masterKey } : {}), suite: c.suite } : undefined;
      },
      replaceKeys: (ctx, keys) => {
        const at = find(ctx);
        const c = this.configs[at];
        if (!c) return;
        this.configs[at] = {
          ...c,
          ...(keys.guek ? { blockCipherKey: keys.guek } : {}),
          ...(keys.ak ? { authenticationKey: keys.ak } : {}),
          ...(keys.kek ? { masterKey: keys.kek } : {}),
          // Keys a client transferred are its own: never printed.
          printableSecret: false,
        };
        if (keys.guek) this.runtimes.delete(c.clientSap);
        this.log(`client ${c.clientSap}: key_transfer took new keys for its next association`);
      },
    };
  }

  /** Association LN secret written: the client presents it from its next association on (never printed). */
  private takeSecret(clientSap: number, secret: Uint8Array): void {
    const at = this.configs.findIndex((c) => c.clientSap === clientSap);
    if (at < 0) return;
    this.configs[at] = { ...this.configs[at]!, secret: secret.slice(), printableSecret: false };
    this.log(`client ${clientSap}: new secret for its next association`);
  }

  private imageBlockAccepted(): void {
    this.imageBlocks++;
    if (this.imageBlocks === this.options.faults?.dropLinkAfterImageBlocks) this.dropLinkNow = true;
  }

  /**
   * The dropLinkAfterImageBlocks fault. Requests are served synchronously, so the block that set the flag came over
   * `channel`: it closes before the answer goes out (the meter keeps the block, the client never learns it).
   */
  private dropLinkIfDue<T>(channel: ServerChannel, answer: T): T {
    if (this.dropLinkNow) {
      this.dropLinkNow = false;
      this.log(`fault: link dropped after image block ${this.imageBlocks}`);
      channel.close().catch(() => undefined);
    }
    return answer;
  }

  private counterFor(instance: number): number {
    const config = this.configs.find((c) => c.associationLn[4] === instance);
    return config ? (this.runtimes.get(config.clientSap)?.lastClientCounter ?? 0) : 0;
  }

  private runtime(sap: number): SecurityRuntime {
    let r = this.runtimes.get(sap);
    if (!r) this.runtimes.set(sap, (r = newSecurityRuntime()));
    return r;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  clients(): ClientDescription[] {
    return this.configs.map(describeClient);
  }

  get activeConnections(): number {
    return this.links.size;
  }

  async start(): Promise<void> {
    const o = this.options;
    const transport = o.transport ?? 'tcp';
    if (transport === 'serial') {
      if (!o.medium) throw new UsageError('missing-medium', 'simulator over serial needs a medium (open a SerialMedium for the port and pass it as `medium`)');
      // The optical port of a meter idles at the sign-on framing; reopen() also opens a closed port.
      if (this.modeE && isReframable(o.medium)) await o.medium.reopen(MODE_E_SIGN_ON_FRAMING);
      else await o.medium.open();
      this.attach(o.medium);
      this.address = o.medium.description ?? 'serial';
    } else if (transport === 'udp') {
      if (o.framing !== 'wrapper') throw new UsageError('bad-framing', 'the simulator serves UDP with the wrapper framing only (--framing wrapper)');
      const udp = new UdpListener();
      udp.on('connection', (medium) => this.attach(medium));
      const bound = await udp.listen(o.port ?? 4059, o.host ?? '127.0.0.1');
      this.udp = udp;
      this.port = bound.port;
      this.address = bound.address;
    } else {
      const tcp = new TcpListener({
        ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
        ...(o.firstFrameTimeoutMs !== undefined ? { firstFrameTimeoutMs: o.firstFrameTimeoutMs } : {}),
      });
      tcp.on('connection', (medium) => this.attach(medium));
      const bound = await tcp.listen(o.port ?? 4059, o.host ?? '127.0.0.1');
      this.tcp = tcp;
      this.port = bound.port;
      this.address = bound.address;
    }
    const interval = o.push?.intervalMs ?? 0;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.push().catch((e: unknown) => this.log(`scheduled push failed: ${e instanceof Error ? e.message : String(e)}`));
      }, interval);
      this.timer.unref();
    }
  }

  private attach(medium: Medium): void {
    const hdlc = this.profile.hdlc;
    const channel = serveMedium(medium, {
      framing: this.options.framing,
      logicalDevices: [this.options.logicalDevice ?? 1],
      ...(this.profile.physicalAddress !== undefined && this.options.framing === 'hdlc' ? { physicalAddress: this.profile.physicalAddress } : {}),
      ...(this.options.hdlcMaxInfo !== undefined
        ? { hdlcMaxInfoRx: this.options.hdlcMaxInfo, hdlcMaxInfoTx: this.options.hdlcMaxInfo }
        : hdlc.maxInfoRx !== undefined ? { hdlcMaxInfoRx: hdlc.maxInfoRx } : {}),
      ...(this.options.hdlcWindow !== undefined ? { hdlcWindow: this.options.hdlcWindow } : {}),
      ...(hdlc.addressSize !== undefined ? { addressSize: hdlc.addressSize } : {}),
      ...(this.options.faults ? { faults: this.options.faults } : {}),
      ...(this.options.trace ? { trace: this.options.trace } : {}),
      ...(this.modeE ? { modeE: this.modeE } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    const sessions = new Map<number, Session>();
    this.links.set(channel, { sessions, peers: new Map() });
    // Per configuration, so that keys a client transferred start with fresh counters here too.
    const ownRuntimes = this.options.countersPerConnection ? new Map<ClientAssociationConfig, SecurityRuntime>() : undefined;
    const runtimeOf = (config: ClientAssociationConfig): SecurityRuntime => {
      if (!ownRuntimes) return this.runtime(config.clientSap);
      let r = ownRuntimes.get(config);
      if (!r) ownRuntimes.set(config, (r = newSecurityRuntime()));
      return r;
    };
    const sessionFor = (peer: ServerPeer): Session | undefined => {
      let s = sessions.get(peer.clientSap);
      if (s) return s;
      const config = this.configs.find((c) => c.clientSap === peer.clientSap);
      if (!config) return undefined;
      const services = new ServerServices();
      const identity = {
        systemTitle: this.profile.serverSystemTitle,
        ...(this.profile.serverSigningKey ? { signingKey: this.profile.serverSigningKey } : {}),
        ...(this.profile.serverKeyAgreementKey ? { keyAgreementKey: this.profile.serverKeyAgreementKey } : {}),
      };
      const association = new ServerAssociation(config, identity, runtimeOf(config), {
        serve: (request: Apdu, ctx) => this.dropLinkIfDue(channel, services.handle(request, { ...ctx, model: this.model })),
        now: this.now,
        ...(this.options.random ? { random: this.options.random } : {}),
        log: (line) => this.log(line),
        // The blocks one turn of the link carries, and no more than the meter's own GBT window.
        turnCapacity: (lengths) => Math.min(channel.turnCapacity(peer, lengths), this.options.gbtWindow ?? lengths.length),
        ...(this.options.faults?.gbtLoseBlock !== undefined ? { gbtLoseBlock: this.options.faults.gbtLoseBlock } : {}),
      });
      s = { association, services, config };
      sessions.set(peer.clientSap, s);
      return s;
    };
    const end = (peer: ServerPeer | undefined): void => {
      for (const [sap, s] of sessions) {
        if (peer && sap !== peer.clientSap) continue;
        s.association.reset();
        s.services.reset();
        sessions.delete(sap);
      }
    };
    const peers = this.links.get(channel)!.peers;
    channel.onConnect((peer) => {
      end(peer);
      peers.set(peer.clientSap, peer);
    });
    channel.onDisconnect((peer) => {
      end(peer);
      if (peer) peers.delete(peer.clientSap);
      else peers.clear();
    });
    // Whatever the disconnects said (a wrapper reports its peers one by one), a closed medium's state goes with it.
    channel.onClose(() => {
      end(undefined);
      peers.clear();
      this.links.delete(channel);
    });
    channel.onApdu((apdu, peer, reply) => {
      peers.set(peer.clientSap, peer);
      let answer: Uint8Array | Uint8Array[];
      try {
        const stale = sessions.get(peer.clientSap);
        // A new AARQ after key_transfer associates with the client's new keys.
        if (apdu[0] === 0x60 && stale && stale.config !== this.configs.find((c) => c.clientSap === peer.clientSap)) end(peer);
        const session = sessionFor(peer);
        if (!session) {
          this.log(`client SAP ${peer.clientSap} is not configured: request refused`);
          answer = apdu[0] === 0x60 ? unknownClientAare(apdu) : encodeApdu({ kind: 'exception-response', stateError: 1, serviceError: 1 });
        } else {
          if (apdu[0] === 0x60) session.services.reset();
          answer = session.association.respond(apdu);
        }
      } catch (e) {
        this.log(`internal error answering client ${peer.clientSap}: ${e instanceof Error ? e.message : String(e)}`);
        answer = encodeApdu({ kind: 'exception-response', stateError: 1, serviceError: 3 });
      }
      reply(answer).catch((e: unknown) => this.log(`reply failed: ${e instanceof DlmsError ? e.message : String(e)}`));
    });
  }

  /** The DataNotification the push setup describes, ciphered when asked. */
  notification(): Uint8Array {
    const at = this.now();
    const ctx: AccessContext = { clientSap: 0, associationLn: Uint8Array.of(0, 0, 40, 0, 0, 255), authenticated: true, now: at };
    const body = this.meter ? this.meter.push.payload(this.model, ctx) : { type: 'structure' as const, value: [] };
    const apdu: DataNotification = { kind: 'data-notification', longInvokeIdAndPriority: ++this.pushId & 0xffffff, body, dateTime: localDateTime(at) };
    const plain = encodeApdu(apdu);
    if (!this.options.push?.ciphered) return plain;
    const keyed = this.configs.find((c) => c.blockCipherKey);
    if (!keyed?.blockCipherKey) throw new UsageError('no-push-keys', 'a ciphered push needs a client configured with a block cipher key');
    return wrapGeneralGlo({
      plaintextApdu: plain,
      securityControl: securityControlFor(keyed.authenticationKey ? 'auth-enc' : 'enc', keyed.suite),
      invocationCounter: this.runtime(keyed.clientSap).serverCounter.next(),
      systemTitle: this.profile.serverSystemTitle,
      blockCipherKey: keyed.blockCipherKey,
      ...(keyed.authenticationKey ? { authenticationKey: keyed.authenticationKey } : {}),
    });
  }

  async notifyEvent(event: { classId: number; obis: string; attribute: number } = { classId: 8, obis: '0.0.1.0.0.255', attribute: 2 }): Promise<number> {
    const ln = obisToBytes(parseObis(event.obis));
    const object = this.model.find(ln);
    if (!object) throw new UsageError('unknown-object', `event notification: the meter has no object ${event.obis}`);
    const at = this.now();
    const ctx: AccessContext = { clientSap: 0, associationLn: Uint8Array.of(0, 0, 40, 0, 0, 255), authenticated: true, now: at };
    const value = object.getAttribute(event.attribute, ctx);
    const plain = encodeApdu({
      kind: 'event-notification-request',
      time: localDateTime(at),
      attribute: { classId: event.classId, instance: ln, attributeId: event.attribute },
      value,
    } satisfies EventNotificationRequest);
    let sent = 0;
    for (const [channel, link] of this.links) {
      for (const [sap, session] of link.sessions) {
        const peer = link.peers.get(sap);
        const bytes = peer ? session.association.unsolicited(plain) : undefined;
        if (!peer || !bytes) continue;
        await channel.push(bytes, peer);
        sent++;
      }
    }
    return sent;
  }

  async push(): Promise<void> {
    const destination = this.options.push?.destination ?? this.meter?.push.destinationText ?? '';
    const m = /^(.*):(\d{1,5})$/.exec(destination);
    if (!m) throw new UsageError('bad-push-destination', `push destination "${destination}" is not host:port`);
    const host = m[1]!;
    const port = Number(m[2]);
    const frame = encodeWrapper({ source: this.options.logicalDevice ?? 1, destination: 0x10, apdu: this.notification() });
    if ((this.options.push?.protocol ?? 'tcp') === 'udp') await sendUdp(host, port, frame);
    else await sendTcp(host, port, frame);
    this.log(`pushed a DataNotification to ${destination}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.links.keys()].map((c) => c.close().catch(() => undefined)));
    await this.tcp?.close();
    await this.udp?.close();
  }
}

function mechanismId(a: ClientAssociationConfig['authentication']): number {
  return ['none', 'low', 'high', 'high-md5', 'high-sha1', 'high-gmac', 'high-sha256', 'high-ecdsa'].indexOf(a);
}

/** AARE rejected-permanent / no-reason-given for a client SAP the meter does not know, in the context asked for. */
/** The AARE for a client SAP nobody configured: rejected, echoing the context the AARQ asked for. */
function unknownClientAare(aarq: Uint8Array): Uint8Array {
  let context: Aare['applicationContextName'] = { oid: '2.16.756.5.8.1.1', name: 'logical-name' };
  try {
    const request = decodeApdu(aarq, 'AARQ');
    if (request.kind === 'aarq') context = request.applicationContextName;
  } catch {
    // An AARQ we cannot read still gets a rejection.
  }
  return encodeApdu({ kind: 'aare', applicationContextName: context, result: 1, resultSourceDiagnostic: { source: 'acse-service-user', value: 1 } });
}

/** The notification time stamp: UTC (deviation 0), with the day of week, to the second. */
function localDateTime(at: Date): Uint8Array {
  return dateTimeToBytes({ ...dateTimeFromDate(at, 0, { dayOfWeek: true }), hundredths: 0 });
}

function sendTcp(host: string, port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), 5000);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new MediaError('push-failed', `push to ${host}:${port} failed: ${e.message}`, { cause: e }));
    });
    socket.once('connect', () => {
      socket.end(Buffer.from(bytes), () => {
        clearTimeout(timer);
        resolve();
      });
    });
  });
}

function sendUdp(host: string, port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.send(Buffer.from(bytes), port, host, (e) => {
      socket.close();
      if (e) reject(new MediaError('push-failed', `push to ${host}:${port} failed: ${e.message}`, { cause: e }));
      else resolve();
    });
  });
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  try {
    await sim.start();
  } catch (e) {
    await sim.close();
    throw e;
  }
  return sim;
}
