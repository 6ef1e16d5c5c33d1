// CMQ conformance, topic model (tag filters with requeue nacks, routing keys with visibility
// nacks); the queue model runs in conformance-cmq.test.ts. The variants live in
// conformance-cmq-suite.ts.
import { cmqConformance } from './conformance-cmq-suite.js';

cmqConformance('topic');
