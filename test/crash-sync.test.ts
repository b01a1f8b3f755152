// kill -9 under load in sync mode: every acknowledged upload is in the replica, byte for byte.
import { crashTest } from "../testkit/crash-test.js";

crashTest("sync", 10);
