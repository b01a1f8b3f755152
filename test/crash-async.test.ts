// kill -9 under load in async mode: every upload acknowledged more than (sync interval + one
// upload) before the kill is in the replica, byte for byte.
import { crashTest } from "../testkit/crash-test.js";

crashTest("async", 10);
