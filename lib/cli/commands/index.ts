/** The `dlms` commands. Each lives in its own module; this list is what `dlms help` shows. */
import { Io } from '../output';
import { actionCommand } from './action';
import { imageTransferCommand } from './image-transfer';
import { infoCommand } from './info';
import { listCommand } from './list';
import { listenCommand } from './listen';
import { readCommand } from './read';
import { securityCommand } from './security';
import { simulateCommand } from './simulate';
import { translateCommand } from './translate';
import { writeCommand } from './write';

export interface Command {
  name: string;
  summary: string;
  help(): string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

export const COMMANDS: readonly Command[] = [readCommand, writeCommand, actionCommand, listCommand, infoCommand, translateCommand, listenCommand, simulateCommand, securityCommand, imageTransferCommand];
