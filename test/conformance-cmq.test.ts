// CMQ conformance, queue model (envelope and raw bodies, the CMQ dead-letter policy); the topic
// model runs in conformance-cmq-topic.test.ts. The variants live in conformance-cmq-suite.ts.
import { cmqConformance } from './conformance-cmq-suite.js';

cmqConformance('queue');
